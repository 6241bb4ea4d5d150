import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { fetchPinnedCommit } from './fetch-pinned-commit';
import { hardenedGitEnv } from './git-env';
import { SourceError, type SourceErrorCode } from './source.error';
import { fixtureGitEnv } from './testing/fixture-git-env';

// Lets one test make `git rev-parse --verify HEAD` lie, to exercise the COMMIT_MISMATCH check.
const fake = vi.hoisted(() => ({ head: undefined as string | undefined }));
vi.mock('./git-runner', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./git-runner')>();
  return {
    ...actual,
    runGit: (args: readonly string[], opts: Parameters<typeof actual.runGit>[1]) =>
      fake.head !== undefined && args.join(' ') === 'rev-parse --verify HEAD'
        ? Promise.resolve({ code: 0, stdout: Buffer.from(`${fake.head}\n`), stderr: '' })
        : actual.runGit(args, opts),
  };
});

let root: string;
let fixtureEnv: Record<string, string>;
let counter = 0;

/** Runs git for building fixtures (not the code under test). */
function git(cwd: string, args: string[], extraEnv: Record<string, string> = {}): string {
  return execFileSync('git', args, { cwd, env: { ...fixtureEnv, ...extraEnv }, encoding: 'utf8' }).trim();
}

function makeRepo(name: string, format: 'sha1' | 'sha256' = 'sha1'): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', `--object-format=${format}`, '-b', 'main']);
  return dir;
}

function commitFile(repo: string, file: string, content: string, time: number): string {
  mkdirSync(join(repo, file, '..'), { recursive: true });
  writeFileSync(join(repo, file), content);
  git(repo, ['add', '--', file]);
  git(repo, ['commit', '-q', '-m', `${file}=${content}`], { GIT_COMMITTER_DATE: `${time} +0000` });
  return git(repo, ['rev-parse', 'HEAD']);
}

/** Adds gitlinks (path → sha) and their .gitmodules entries, then commits. */
function commitSubmodules(repo: string, subs: { name: string; path: string; url: string; sha: string }[]): string {
  for (const sub of subs) {
    git(repo, ['config', '-f', '.gitmodules', `submodule.${sub.name}.path`, sub.path]);
    git(repo, ['config', '-f', '.gitmodules', `submodule.${sub.name}.url`, sub.url]);
    git(repo, ['update-index', '--add', '--cacheinfo', `160000,${sub.sha},${sub.path}`]);
  }
  git(repo, ['add', '.gitmodules']);
  git(repo, ['commit', '-q', '-m', 'submodules'], { GIT_COMMITTER_DATE: '1700000500 +0000' });
  return git(repo, ['rev-parse', 'HEAD']);
}

function freshDest(): string {
  counter += 1;
  return join(root, `dest-${counter}`);
}

async function rejection(promise: Promise<unknown>, code: SourceErrorCode): Promise<SourceError> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  expect((err as SourceError).code).toBe(code);
  return err as SourceError;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'source-spec-'));
  fixtureEnv = fixtureGitEnv(root, { GIT_ALLOW_PROTOCOL: 'file' });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

afterEach(() => {
  fake.head = undefined;
  vi.unstubAllEnvs();
});

describe('hardenedGitEnv', () => {
  it('is the complete environment of every git process', () => {
    expect(hardenedGitEnv('/h', false)).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/h',
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ALLOW_PROTOCOL: 'https:ssh',
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    });
    expect(hardenedGitEnv('/h', true).GIT_ALLOW_PROTOCOL).toBe('https:ssh:file:http');
  });
});

describe('fetchPinnedCommit', () => {
  it('fetches a non-tip commit by SHA and records HEAD, tree and committer time', async () => {
    const repo = makeRepo('plain');
    const first = commitFile(repo, 'app.txt', 'v1', 1700000000);
    commitFile(repo, 'app.txt', 'v2', 1700000100);
    const logs: string[] = [];
    // An inherited GIT_DIR would redirect every command; the hardened env must ignore it.
    vi.stubEnv('GIT_DIR', join(root, 'nowhere'));

    const dest = freshDest();
    const checkout = await fetchPinnedCommit({
      repository: repo,
      commit: first.toUpperCase(),
      destDir: dest,
      allowLocal: true,
      onLog: (l) => logs.push(l),
    });

    expect(checkout).toEqual({
      dir: dest,
      repository: `file://${repo}`,
      commit: first,
      treeId: git(repo, ['rev-parse', `${first}^{tree}`]),
      commitTime: 1700000000,
      objectFormat: 'sha1',
      submodules: [],
      gitVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(readFileSync(join(dest, 'app.txt'), 'utf8')).toBe('v1');
    expect(git(dest, ['rev-parse', 'HEAD'])).toBe(first);
    expect(git(dest, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    expect(git(dest, ['tag', '-l'])).toBe('');
    expect(existsSync(join(root, 'nowhere'))).toBe(false);
    expect(logs[0]).toBe(`fetching ${first} from file://${repo} (git ${checkout.gitVersion})`);
  });

  it('fetches from a SHA-256 repository', async () => {
    const repo = makeRepo('sha256', 'sha256');
    const first = commitFile(repo, 'a.txt', 'one', 1700000200);
    commitFile(repo, 'a.txt', 'two', 1700000300);
    expect(first).toHaveLength(64);

    const checkout = await fetchPinnedCommit({
      repository: repo,
      commit: first,
      destDir: freshDest(),
      allowLocal: true,
    });
    expect(checkout.objectFormat).toBe('sha256');
    expect(checkout.commit).toBe(first);
    expect(checkout.treeId).toHaveLength(64);
    expect(checkout.commitTime).toBe(1700000200);
    expect(readFileSync(join(checkout.dir, 'a.txt'), 'utf8')).toBe('one');
  });

  it('fails with FETCH_FAILED for a commit that does not exist', async () => {
    const repo = makeRepo('missing');
    commitFile(repo, 'a.txt', 'x', 1700000000);
    const missing = 'deadbeef'.repeat(5);
    const err = await rejection(
      fetchPinnedCommit({ repository: repo, commit: missing, destDir: freshDest(), allowLocal: true }),
      'FETCH_FAILED',
    );
    expect(err.message).toContain(`cannot fetch commit ${missing} from file://${repo}`);
    expect(err.message).toMatch(/does the commit exist there\?/);
  });

  it('refuses an object that is not a commit (annotated tag id)', async () => {
    const repo = makeRepo('tagged');
    commitFile(repo, 'a.txt', 'x', 1700000000);
    git(repo, ['tag', '-a', '-m', 'release', 'v1']);
    const tagId = git(repo, ['rev-parse', 'v1']);
    const err = await rejection(
      fetchPinnedCommit({ repository: repo, commit: tagId, destDir: freshDest(), allowLocal: true }),
      'INVALID_COMMIT',
    );
    expect(err.message).toMatch(/is a tag, not a commit/);
  });

  it('fails with COMMIT_MISMATCH when HEAD is not the pinned commit after checkout', async () => {
    const repo = makeRepo('mismatch');
    const sha = commitFile(repo, 'a.txt', 'x', 1700000000);
    fake.head = 'f'.repeat(40);
    const err = await rejection(
      fetchPinnedCommit({ repository: repo, commit: sha, destDir: freshDest(), allowLocal: true }),
      'COMMIT_MISMATCH',
    );
    expect(err.message).toBe(`HEAD is ${'f'.repeat(40)} after checkout, expected ${sha}`);
  });

  it('refuses local repositories without allowLocal before touching the destination', async () => {
    const repo = makeRepo('local-refused');
    const sha = commitFile(repo, 'a.txt', 'x', 1700000000);
    const dest = freshDest();
    for (const repository of [repo, `file://${repo}`]) {
      const err = await rejection(
        fetchPinnedCommit({ repository, commit: sha, destDir: dest }),
        'LOCAL_REPO_NOT_ALLOWED',
      );
      expect(err.message).toMatch(/allowLocal/);
    }
    expect(existsSync(dest)).toBe(false);
  });

  it('validates the commit and the URL before anything else', async () => {
    const dest = freshDest();
    await rejection(
      fetchPinnedCommit({ repository: 'https://h/r.git', commit: 'main', destDir: dest }),
      'INVALID_COMMIT',
    );
    await rejection(
      fetchPinnedCommit({ repository: 'ext::sh -c touch% /tmp/x', commit: 'a'.repeat(40), destDir: dest }),
      'INVALID_URL',
    );
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a destination that is not empty', async () => {
    const repo = makeRepo('dest-busy');
    const sha = commitFile(repo, 'a.txt', 'x', 1700000000);
    const dest = freshDest();
    mkdirSync(dest);
    writeFileSync(join(dest, 'junk'), '');
    const err = await rejection(
      fetchPinnedCommit({ repository: repo, commit: sha, destDir: dest, allowLocal: true }),
      'INVALID_DESTINATION',
    );
    expect(err.message).toMatch(/not empty/);
  });

  it('kills git and fails with GIT_TIMEOUT when a command exceeds its timeout', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server: Server = createServer(() => undefined); // accepts, never answers
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const started = Date.now();
      const err = await rejection(
        fetchPinnedCommit({
          repository: `http://127.0.0.1:${port}/repo.git`,
          commit: 'a'.repeat(40),
          destDir: freshDest(),
          allowLocal: true,
          timeoutMs: 1500,
        }),
        'GIT_TIMEOUT',
      );
      expect(err.message).toMatch(/git fetch timed out after 1500 ms/);
      expect(Date.now() - started).toBeLessThan(6000);
      expect(sockets.size).toBeGreaterThan(0);
      // The killed remote helper closes its connection.
      await vi.waitFor(() => expect([...sockets].every((s) => s.destroyed || s.readableEnded)).toBe(true), {
        timeout: 3000,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  describe('submodules', () => {
    it('fetches every gitlink at exactly its SHA, recursively, and records it', async () => {
      const lib = makeRepo('sm/lib');
      const libPinned = commitFile(lib, 'lib.txt', 'lib-v1', 1700000000);
      commitFile(lib, 'lib.txt', 'lib-v2', 1700000100);
      const inner = makeRepo('sm/inner');
      const innerPinned = commitFile(inner, 'inner.txt', 'inner-v1', 1700000000);
      commitFile(inner, 'inner.txt', 'inner-v2', 1700000100);
      const mid = makeRepo('sm/mid');
      commitFile(mid, 'mid.txt', 'mid', 1700000000);
      const midPinned = commitSubmodules(mid, [
        { name: 'inner', path: 'deps/inner', url: `file://${inner}`, sha: innerPinned },
      ]);
      commitFile(mid, 'mid.txt', 'mid-later', 1700000900);
      const sup = makeRepo('sm/super');
      commitFile(sup, 'main.txt', 'main', 1700000000);
      const supPinned = commitSubmodules(sup, [
        { name: 'lib', path: 'vendor/lib', url: '../lib', sha: libPinned },
        { name: 'mid', path: 'mid', url: `${mid}/`, sha: midPinned },
      ]);

      const logs: string[] = [];
      const checkout = await fetchPinnedCommit({
        repository: sup,
        commit: supPinned,
        destDir: freshDest(),
        allowLocal: true,
        onLog: (l) => logs.push(l),
      });

      expect(checkout.submodules).toEqual([
        { path: 'mid', url: `file://${mid}`, commit: midPinned },
        { path: 'mid/deps/inner', url: `file://${inner}`, commit: innerPinned },
        { path: 'vendor/lib', url: `file://${lib}`, commit: libPinned },
      ]);
      expect(readFileSync(join(checkout.dir, 'vendor/lib/lib.txt'), 'utf8')).toBe('lib-v1');
      expect(readFileSync(join(checkout.dir, 'mid/mid.txt'), 'utf8')).toBe('mid');
      expect(readFileSync(join(checkout.dir, 'mid/deps/inner/inner.txt'), 'utf8')).toBe('inner-v1');
      expect(git(join(checkout.dir, 'vendor/lib'), ['rev-parse', 'HEAD'])).toBe(libPinned);
      expect(git(join(checkout.dir, 'mid/deps/inner'), ['rev-parse', 'HEAD'])).toBe(innerPinned);
      expect(logs).toContain(`submodule vendor/lib: fetching ${libPinned} from file://${lib}`);
    });

    it.each([
      ['ext::sh -c touch% MARKER', /remote-helper/],
      ['-oProxyCommand=touch MARKER', /whitespace|option/],
      ['-oProxyCommand=touch%20MARKER', /could be read as an option/],
      ['--upload-pack=touch%20MARKER', /could be read as an option/],
      ['ssh://-oProxyCommand=touch%20MARKER/x', /could be read as an option/],
      ['fd::3', /remote-helper/],
      ['git://127.0.0.1/x.git', /unauthenticated/],
      ['https://user:hunter2@example.org/x.git', /credentials/],
    ])('refuses the submodule URL %j before anything is fetched', async (badUrl, message) => {
      counter += 1;
      const marker = join(root, `pwned-${counter}`);
      const good = makeRepo(`bad-${counter}/good`);
      const goodSha = commitFile(good, 'g.txt', 'g', 1700000000);
      const sup = makeRepo(`bad-${counter}/super`);
      commitFile(sup, 'main.txt', 'main', 1700000000);
      const supSha = commitSubmodules(sup, [
        { name: 'a-good', path: 'a-good', url: '../good', sha: goodSha },
        { name: 'z-bad', path: 'z-bad', url: badUrl.replace('MARKER', marker), sha: goodSha },
      ]);

      const dest = freshDest();
      const err = await rejection(
        fetchPinnedCommit({ repository: sup, commit: supSha, destDir: dest, allowLocal: true }),
        'SUBMODULE_INVALID',
      );
      expect(err.message).toMatch(/^submodule "z-bad" has an unacceptable URL: /);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('hunter2');
      expect(existsSync(marker)).toBe(false);
      expect(readdirSync(join(dest, 'a-good'))).toEqual([]); // the valid submodule was not fetched either
    });

    it('refuses a gitlink that has no .gitmodules entry', async () => {
      const sub = makeRepo('orphan/sub');
      const subSha = commitFile(sub, 's.txt', 's', 1700000000);
      const sup = makeRepo('orphan/super');
      commitFile(sup, 'main.txt', 'main', 1700000000);
      git(sup, ['update-index', '--add', '--cacheinfo', `160000,${subSha},orphan`]);
      git(sup, ['commit', '-q', '-m', 'orphan gitlink']);
      const err = await rejection(
        fetchPinnedCommit({
          repository: sup,
          commit: git(sup, ['rev-parse', 'HEAD']),
          destDir: freshDest(),
          allowLocal: true,
        }),
        'SUBMODULE_INVALID',
      );
      expect(err.message).toMatch(/has gitlinks but no \.gitmodules/);

      commitSubmodules(sup, [{ name: 'other', path: 'elsewhere', url: '../sub', sha: subSha }]);
      const err2 = await rejection(
        fetchPinnedCommit({
          repository: sup,
          commit: git(sup, ['rev-parse', 'HEAD']),
          destDir: freshDest(),
          allowLocal: true,
        }),
        'SUBMODULE_INVALID',
      );
      expect(err2.message).toMatch(/gitlink "orphan" has no entry in \.gitmodules/);
    });

    it('fails with FETCH_FAILED naming the submodule when its gitlink SHA does not exist', async () => {
      const sub = makeRepo('gone/sub');
      commitFile(sub, 's.txt', 's', 1700000000);
      const sup = makeRepo('gone/super');
      commitFile(sup, 'main.txt', 'main', 1700000000);
      const missing = 'abcdef01'.repeat(5);
      const supSha = commitSubmodules(sup, [{ name: 'sub', path: 'sub', url: '../sub', sha: missing }]);
      const err = await rejection(
        fetchPinnedCommit({ repository: sup, commit: supSha, destDir: freshDest(), allowLocal: true }),
        'FETCH_FAILED',
      );
      expect(err.message).toMatch(new RegExp(`^submodule "sub": cannot fetch commit ${missing}`));
    });
  });
});
