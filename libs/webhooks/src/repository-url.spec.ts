import { describe, expect, it } from 'vitest';

import type { PushEvent } from './delivery.types';
import { normalizeRepositoryUrl, repositoryMatches } from './repository-url';
import { WebhookError } from './webhook-error';

function pushFrom(...cloneUrls: string[]): PushEvent {
  return {
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: 'a'.repeat(40),
    deleted: false,
    refType: 'branch',
    repository: { cloneUrls },
  };
}

describe('normalizeRepositoryUrl', () => {
  it.each([
    // https
    ['https://git.example.com/org/repo', 'https://git.example.com/org/repo'],
    ['https://git.example.com/org/repo.git', 'https://git.example.com/org/repo'],
    ['https://git.example.com/org/repo/', 'https://git.example.com/org/repo'],
    ['https://git.example.com/org/repo.git/', 'https://git.example.com/org/repo'],
    ['HTTPS://Git.Example.COM/Org/Repo.git', 'https://git.example.com/Org/Repo'],
    ['https://git.example.com:443/org/repo', 'https://git.example.com/org/repo'],
    ['https://git.example.com:8443/org/repo', 'https://git.example.com:8443/org/repo'],
    ['https://user:token@git.example.com/org/repo.git', 'https://git.example.com/org/repo'],
    ['https://x-access-token@git.example.com/org/repo', 'https://git.example.com/org/repo'],
    ['https://gitlab.example.com/group/sub/group/project', 'https://gitlab.example.com/group/sub/group/project'],
    ['https://github.com/org/.github', 'https://github.com/org/.github'],
    ['http://localhost:3000/gitea/webhooks.git', 'http://localhost:3000/gitea/webhooks'],
    ['http://127.0.0.1:80/org/repo', 'http://127.0.0.1/org/repo'],
    ['https://[::1]:8443/org/repo', 'https://[::1]:8443/org/repo'],
    // ssh
    ['ssh://git@git.example.com/org/repo.git', 'ssh://git@git.example.com/org/repo'],
    ['ssh://git@git.example.com:22/org/repo.git', 'ssh://git@git.example.com/org/repo'],
    ['ssh://gitea@localhost:2222/gitea/webhooks.git', 'ssh://gitea@localhost:2222/gitea/webhooks'],
    ['ssh://git:password@git.example.com/org/repo', 'ssh://git@git.example.com/org/repo'],
    ['SSH://git@GIT.example.com/org/repo', 'ssh://git@git.example.com/org/repo'],
    ['ssh://git.example.com/org/repo', 'ssh://git.example.com/org/repo'],
    // scp-like
    ['git@git.example.com:org/repo.git', 'ssh://git@git.example.com/org/repo'],
    ['git@git.example.com:org/repo', 'ssh://git@git.example.com/org/repo'],
    ['git@git.example.com:/org/repo.git', 'ssh://git@git.example.com/org/repo'],
    ['git.example.com:org/repo', 'ssh://git.example.com/org/repo'],
    ['git@[::1]:org/repo', 'ssh://git@[::1]/org/repo'],
    // git:// (GitHub's git_url): compared, never cloned
    ['git://github.com/Codertocat/Hello-World.git', 'git://github.com/codertocat/hello-world'],
    // github.com paths are case-insensitive
    ['https://github.com/Codertocat/Hello-World.git', 'https://github.com/codertocat/hello-world'],
    ['git@GitHub.com:Codertocat/Hello-World.git', 'ssh://git@github.com/codertocat/hello-world'],
    // other hosts keep the path's case
    ['https://gitlab.com/Group/Project', 'https://gitlab.com/Group/Project'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRepositoryUrl(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['a local path', '/srv/git/repo.git'],
    ['a relative path', 'repo'],
    ['a file URL', 'file:///srv/git/repo.git'],
    ['an unknown scheme', 'ftp://git.example.com/org/repo'],
    ['an inherited property name as scheme', 'constructor://git.example.com/org/repo'],
    ['a remote helper', 'ext::sh -c touch% /tmp/pwned'],
    ['a scheme with one slash', 'https:/git.example.com/org/repo'],
    ['a scheme without slashes', 'https:git.example.com/org/repo'],
    ['no path', 'https://git.example.com'],
    ['only a slash', 'https://git.example.com/'],
    ['only .git', 'https://git.example.com/.git'],
    ['a query string', 'https://git.example.com/org/repo?x=1'],
    ['a fragment', 'https://git.example.com/org/repo#main'],
    ['a percent escape', 'https://git.example.com/org/%72epo'],
    ['a dot-dot segment', 'https://git.example.com/org/../other/repo'],
    ['a dot segment', 'https://git.example.com/org/./repo'],
    ['an empty segment', 'https://git.example.com/org//repo'],
    ['an option-like segment', 'https://git.example.com/org/--upload-pack=x'],
    ['whitespace', 'https://git.example.com/org/repo evil'],
    ['a newline', 'https://git.example.com/org/repo\n'],
    ['a backslash', 'https://git.example.com\\org\\repo'],
    ['a bad port', 'https://git.example.com:99999/org/repo'],
    ['port zero', 'https://git.example.com:0/org/repo'],
    ['a non-numeric port', 'https://git.example.com:abc/org/repo'],
    ['a host with an underscore', 'https://git_example.com/org/repo'],
    ['a host ending in a dot', 'https://git.example.com./org/repo'],
    ['an option-like ssh user', 'ssh://-oProxyCommand=x@git.example.com/org/repo'],
    ['an option-like host', 'ssh://-oProxyCommand=x/org/repo'],
    ['an over-long URL', `https://git.example.com/${'a'.repeat(3000)}`],
  ])('refuses %s', (_why, input) => {
    expect(() => normalizeRepositoryUrl(input)).toThrow(WebhookError);
    try {
      normalizeRepositoryUrl(input);
    } catch (error) {
      expect(error).toMatchObject({ code: 'PAYLOAD_INVALID', details: { field: 'url' } });
    }
  });

  it('never echoes credentials', () => {
    try {
      normalizeRepositoryUrl('https://user:hunter2@git.example.com/org/repo?x');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('repositoryMatches', () => {
  const project = 'https://git.example.com/org/repo';

  it.each([
    ['the same https URL', 'https://git.example.com/org/repo'],
    ['the .git clone URL', 'https://git.example.com/org/repo.git'],
    ['a trailing slash', 'https://git.example.com/org/repo/'],
    ['the scp-like ssh URL', 'git@git.example.com:org/repo.git'],
    ['the ssh:// URL', 'ssh://git@git.example.com/org/repo.git'],
    ['an ssh:// URL on the default port', 'ssh://git@git.example.com:22/org/repo.git'],
    ['an upper-case host', 'https://GIT.EXAMPLE.COM/org/repo'],
    ['embedded credentials', 'https://bot:token@git.example.com/org/repo.git'],
    ['http on the same host (comparison only, clone URL comes from the project)', 'http://git.example.com/org/repo'],
  ])('matches %s', (_why, url) => {
    expect(repositoryMatches(project, pushFrom(url))).toBe(true);
  });

  it('matches when any one of the payload URLs matches', () => {
    expect(
      repositoryMatches(project, pushFrom('not a url', 'https://other.example.com/org/repo', `${project}.git`)),
    ).toBe(true);
  });

  it('matches a GitHub payload whatever the case of owner and repository', () => {
    const push = pushFrom('https://github.com/Codertocat/Hello-World.git', 'git@github.com:Codertocat/Hello-World.git');
    expect(repositoryMatches('https://github.com/codertocat/hello-world', push)).toBe(true);
    expect(repositoryMatches('git@github.com:CODERTOCAT/HELLO-WORLD.git', push)).toBe(true);
  });

  it('matches a Gitea payload through its clone URL when the ssh URL uses another port', () => {
    const push = pushFrom('http://localhost:3000/gitea/webhooks.git', 'ssh://gitea@localhost:2222/gitea/webhooks.git');
    expect(repositoryMatches('http://localhost:3000/gitea/webhooks', push)).toBe(true);
    expect(repositoryMatches('ssh://git@localhost:2222/gitea/webhooks', push)).toBe(true);
    expect(repositoryMatches('https://localhost/gitea/webhooks', push)).toBe(false);
  });

  it.each([
    ['another host', 'https://evil.example.com/org/repo'],
    ['a sub-domain', 'https://git.example.com.evil.example/org/repo'],
    ['a host that only starts the same', 'https://git.example.co/org/repo'],
    ['another owner', 'https://git.example.com/evil/repo'],
    ['another repository', 'https://git.example.com/org/other'],
    ['a longer name (prefix attack)', 'https://git.example.com/org/repo-evil'],
    ['a name with .git in the middle', 'https://git.example.com/org/repo.git-evil'],
    ['a deeper path (prefix attack)', 'https://git.example.com/org/repo/evil'],
    ['a shorter path', 'https://git.example.com/org'],
    ['a parent-relative path', 'https://git.example.com/org/evil/../repo'],
    ['a percent-encoded name', 'https://git.example.com/org/%72epo'],
    ['the same path on another port', 'https://git.example.com:8443/org/repo'],
    ['another case on a case-sensitive host', 'https://git.example.com/Org/Repo'],
    ['credentials that spell the host', 'https://git.example.com@evil.example.com/org/repo'],
    ['an unparseable URL', 'git.example.com/org/repo'],
    ['a local path', '/org/repo'],
    ['an empty string', ''],
  ])('does not match %s', (_why, url) => {
    expect(repositoryMatches(project, pushFrom(url))).toBe(false);
  });

  it('does not match when the payload names no URL', () => {
    expect(repositoryMatches(project, pushFrom())).toBe(false);
  });

  it('refuses (false) when the project URL itself does not parse', () => {
    expect(repositoryMatches('not a url', pushFrom('not a url'))).toBe(false);
    expect(repositoryMatches('', pushFrom(''))).toBe(false);
  });

  it('refuses (false) on malformed push objects instead of throwing', () => {
    expect(repositoryMatches(project, {} as PushEvent)).toBe(false);
    expect(repositoryMatches(project, { repository: { cloneUrls: [42] } } as unknown as PushEvent)).toBe(false);
    expect(repositoryMatches(project, undefined as unknown as PushEvent)).toBe(false);
  });
});
