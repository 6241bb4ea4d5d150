import { describe, expect, it } from 'vitest';

import { parseRepositoryUrl, redactUrl, resolveSubmoduleUrl, type RepositoryUrl } from './repository-url';
import { SourceError, type SourceErrorCode } from './source.error';

const remote = { allowLocal: false };
const local = { allowLocal: true, cwd: '/srv/work' };

function rejection(input: string, opts = remote, code: SourceErrorCode = 'INVALID_URL'): SourceError {
  try {
    parseRepositoryUrl(input, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe(code);
    return err as SourceError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('parseRepositoryUrl', () => {
  describe('accepts', () => {
    it.each<[string, RepositoryUrl['kind'], string]>([
      ['https://github.com/org/repo.git', 'https', 'https://github.com/org/repo.git'],
      ['https://GitHub.com/org/repo', 'https', 'https://github.com/org/repo'],
      ['HTTPS://git.example.org:8443/a/b.git', 'https', 'https://git.example.org:8443/a/b.git'],
      ['https://git.example.org:443/a.git', 'https', 'https://git.example.org/a.git'],
      ['https://[2001:db8::1]/repo.git', 'https', 'https://[2001:db8::1]/repo.git'],
      ['https://host/org/my%20repo.git', 'https', 'https://host/org/my%20repo.git'],
      ['ssh://git@github.com/org/repo.git', 'ssh', 'ssh://git@github.com/org/repo.git'],
      ['ssh://host:2222/~user/repo.git', 'ssh', 'ssh://host:2222/~user/repo.git'],
      ['git@github.com:org/repo.git', 'ssh', 'git@github.com:org/repo.git'],
      ['host.example:repo.git', 'ssh', 'host.example:repo.git'],
      ['deploy@host:/srv/git/repo.git', 'ssh', 'deploy@host:/srv/git/repo.git'],
    ])('%s', (input, kind, url) => {
      expect(parseRepositoryUrl(input, remote)).toEqual({ kind, url, display: url });
    });

    it('local paths and file:// only with allowLocal, resolved to absolute file:// URLs', () => {
      expect(parseRepositoryUrl('/tmp/repo.git', local)).toEqual({
        kind: 'file',
        url: 'file:///tmp/repo.git',
        display: 'file:///tmp/repo.git',
      });
      expect(parseRepositoryUrl('../repos/a/', local).url).toBe('file:///srv/repos/a');
      expect(parseRepositoryUrl('./-dash', local).url).toBe('file:///srv/work/-dash');
      expect(parseRepositoryUrl('file:///tmp/x/../repo', local).url).toBe('file:///tmp/repo');
      expect(parseRepositoryUrl('file://localhost/tmp/repo', local).url).toBe('file:///tmp/repo');
    });

    it('plain http only to loopback and only with allowLocal', () => {
      expect(parseRepositoryUrl('http://127.0.0.1:9418/repo.git', local)).toEqual({
        kind: 'http',
        url: 'http://127.0.0.1:9418/repo.git',
        display: 'http://127.0.0.1:9418/repo.git',
      });
      expect(parseRepositoryUrl('http://localhost/repo.git', local).kind).toBe('http');
    });
  });

  describe('local repositories without allowLocal', () => {
    it.each(['/tmp/repo', 'relative/repo', 'repo', './repo', 'file:///tmp/repo', 'http://127.0.0.1:8080/r.git'])(
      '%s → LOCAL_REPO_NOT_ALLOWED naming the flag',
      (input) => {
        expect(rejection(input, remote, 'LOCAL_REPO_NOT_ALLOWED').message).toMatch(/allowLocal/);
      },
    );
  });

  describe('refuses', () => {
    it.each([
      ['ext::sh -c touch% /tmp/pwned', /remote-helper/],
      ['ext::sh', /remote-helper/],
      ['fd::17', /remote-helper/],
      ['fd::0,1', /remote-helper/],
      ['::foo', /remote-helper/],
      ['foo::https://github.com/org/repo', /remote-helper/],
      ['git-remote-x+y::z', /remote-helper/],
    ])('remote-helper syntax %s', (input, message) => {
      expect(rejection(input, local).message).toMatch(message);
    });

    it.each([
      ['git://github.com/org/repo.git', /git:\/\/ is unauthenticated/],
      ['ftp://host/repo.git', /unsupported URL scheme "ftp:\/\/"/],
      ['git+ssh://host/repo.git', /unsupported URL scheme/],
      ['foo://host/repo', /unsupported URL scheme/],
    ])('scheme of %s', (input, message) => {
      expect(rejection(input, local).message).toMatch(message);
    });

    it.each(['http://github.com/org/repo.git', 'http://10.0.0.1/repo.git'])('plain http to %s', (input) => {
      expect(rejection(input, local).message).toMatch(/plain http:\/\/ is not allowed/);
    });

    it.each([
      'https://user:secret-pass@github.com/org/repo.git',
      'https://ghp_secrettoken@github.com/org/repo.git',
      'https://@github.com/org/repo.git',
      'http://user:secret-pass@127.0.0.1/repo.git',
    ])('embedded credentials without echoing them (%#)', (input) => {
      const err = rejection(input, local);
      expect(err.message).toMatch(/credentials/);
      expect(err.message).not.toMatch(/secret/);
    });

    it('an ssh URL with a password, without echoing it', () => {
      const err = rejection('ssh://git:secret-pass@host/repo.git');
      expect(err.message).toMatch(/password/);
      expect(err.message).not.toMatch(/secret/);
    });

    it.each([
      'https://github.com/org/re\npo.git',
      'https://github.com/org/repo.git\0',
      'https://github.com/org/\x1b[31mrepo',
      'git@host:repo\r',
      'https://host/repo\x7f',
    ])('control characters (%j)', (input) => {
      expect(rejection(input).message).toMatch(/control characters/);
    });

    it.each([
      'https://github.com/org/repo.git --upload-pack=touch /tmp/pwned',
      ' https://github.com/org/repo.git',
      'https://github.com/org/my repo.git',
      'git@host:org/repo.git\u00a0',
      '/tmp/my repo',
    ])('whitespace (%j)', (input) => {
      expect(rejection(input, local).message).toMatch(/whitespace/);
    });

    it.each(['--upload-pack=touch%20/tmp/pwned', '-oProxyCommand=touch%20/tmp/pwned', '-', '--', '-repo'])(
      'option-like text %s',
      (input) => {
        expect(rejection(input, local).message).toMatch(/starts with "-" and could be read as an option/);
      },
    );

    it.each([
      'https://-oProxyCommand=x/repo.git',
      'ssh://-oProxyCommand=touch%20pwned/repo.git',
      'ssh://git@-oProxyCommand=x/repo.git',
      '-host:repo.git',
      'git@-oProxyCommand=x:repo.git',
    ])('hosts starting with "-" (%s)', (input) => {
      expect(rejection(input, local).message).toMatch(/could be read as an option/);
    });

    it.each(['ssh://-oProxyCommand@host/repo.git', '-oProxyCommand=x@host:repo.git', 'ssh://-l@host/r'])(
      'ssh users starting with "-" (%s)',
      (input) => {
        expect(rejection(input).message).toMatch(/could be read as an option/);
      },
    );

    it('scp-like paths starting with "-"', () => {
      expect(rejection('git@host:-oProxyCommand=x').message).toMatch(/path starts with "-"/);
    });

    it.each([
      ['https://github.com', /no path/],
      ['https://github.com/', /no path/],
      ['ssh://host', /no path/],
      ['git@host:', /no path/],
      ['https://github.com/org/repo.git?x=1', /query strings/],
      ['https://github.com/org/repo.git#frag', /query strings/],
      ['https://github.com/org/../other/repo.git', /"\." or "\.\." segments/],
      ['https://github.com/./repo.git', /"\." or "\.\." segments/],
      ['git@host:../repo.git', /"\." or "\.\." segments/],
      ['https://github.com/org/%0arepo', /percent escape/],
      ['https://github.com/org/%zzrepo', /percent escape/],
      ['https://github.com/org/"repo', /disallowed characters/],
      ['https://github.com/org/repo`id`', /disallowed characters/],
      ['https://gith_ub.com/repo', /invalid repository host/],
      ['https://host:0/repo', /invalid port/],
      ['https://host:99999/repo', /invalid repository host|invalid port/],
      ['https://host:port/repo', /invalid repository host/],
      ['https:\\\\host\\repo', /backslash/],
      ['ssh://us$er@host/repo', /invalid ssh user/],
      ['file:/tmp/repo', /malformed URL/],
      ['https:/host/repo', /malformed URL/],
      ['file://otherhost/tmp/repo', /absolute local path/],
      ['file:///tmp/a%0arepo', /disallowed characters/],
      ['/tmp/repo?x', /disallowed characters/],
      ['', /empty/],
    ])('%j (%s)', (input, message) => {
      expect(rejection(input, local).message).toMatch(message);
    });
  });
});

describe('resolveSubmoduleUrl', () => {
  const https = parseRepositoryUrl('https://github.com/org/super.git', remote);
  const scp = parseRepositoryUrl('git@github.com:org/super.git', remote);
  const file = parseRepositoryUrl('file:///tmp/repos/super', local);

  it('resolves ./ and ../ against the superproject URL like git', () => {
    expect(resolveSubmoduleUrl('../lib.git', https, remote).url).toBe('https://github.com/org/lib.git');
    expect(resolveSubmoduleUrl('../../other/lib.git', https, remote).url).toBe('https://github.com/other/lib.git');
    expect(resolveSubmoduleUrl('./sub.git', https, remote).url).toBe('https://github.com/org/super.git/sub.git');
    expect(resolveSubmoduleUrl('../lib.git', scp, remote).url).toBe('git@github.com:org/lib.git');
    expect(resolveSubmoduleUrl('../../lib.git', scp, remote).url).toBe('git@github.com:lib.git');
    expect(resolveSubmoduleUrl('../sub', file, local).url).toBe('file:///tmp/repos/sub');
  });

  it('validates absolute submodule URLs with the same rules', () => {
    expect(resolveSubmoduleUrl('https://example.org/x.git', https, remote).url).toBe('https://example.org/x.git');
    expect(() => resolveSubmoduleUrl('ext::sh -c touch% /tmp/pwned', https, remote)).toThrow(/remote-helper/);
    expect(() => resolveSubmoduleUrl('/tmp/x', https, remote)).toThrow(/allowLocal/);
  });

  it('refuses relative URLs that climb above the root or name nothing', () => {
    expect(() => resolveSubmoduleUrl('../../../x.git', https, remote)).toThrow(/climbs above the root/);
    expect(() => resolveSubmoduleUrl('../../../x.git', scp, remote)).toThrow(/climbs above the root/);
    expect(() => resolveSubmoduleUrl('../', https, remote)).toThrow(/names no repository/);
    expect(() => resolveSubmoduleUrl('../a/../../../b', https, remote)).toThrow(/segments/);
  });

  it('refuses relative URLs that would turn a remote superproject into a local path', () => {
    expect(() => resolveSubmoduleUrl('../../../../tmp/x', file, remote)).toThrow(SourceError);
  });
});

describe('redactUrl', () => {
  it('hides userinfo and control characters', () => {
    expect(redactUrl('https://user:pw@host/r')).toBe('https://***@host/r');
    expect(redactUrl('token@host:org/r\n')).toBe('***@host:org/r?');
  });
});
