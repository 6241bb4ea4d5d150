import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fetchPinnedCommit } from './fetch-pinned-commit';
import { REACHABILITY_REF, verifyCommitReachable } from './reachability';
import { SourceError, type SourceErrorCode } from './source.error';
import { fixtureGitEnv } from './testing/fixture-git-env';

let root: string;
let fixtureEnv: Record<string, string>;
let counter = 0;

/** Runs git for building fixtures (not the code under test). */
function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, env: fixtureEnv, encoding: 'utf8', input }).trim();
}

/** Appends `count` empty commits to `branch` in one fast-import run; returns their ids, oldest first. */
function appendCommits(repo: string, branch: string, count: number, label: string): string[] {
  const parent = git(repo, ['for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`]);
  const lines: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    const message = `${label} ${i}`;
    lines.push(`commit refs/heads/${branch}`, `mark :${i}`, `committer F <f@e> ${1600000000 + i} +0000`);
    lines.push(`data ${Buffer.byteLength(message)}`, message);
    if (i === 1 && parent !== '') lines.push(`from ${parent}`);
    if (i > 1) lines.push(`from :${i - 1}`);
    lines.push('');
  }
  const marksFile = join(root, `marks-${(counter += 1)}`);
  git(repo, ['fast-import', '--quiet', `--export-marks=${marksFile}`], lines.join('\n'));
  const marks = readFileSync(marksFile, 'utf8');
  const byMark = new Map(marks.split('\n').map((l) => l.split(' ') as [string, string]));
  return Array.from({ length: count }, (_, i) => byMark.get(`:${i + 1}`) as string);
}

function freshDest(): string {
  counter += 1;
  return join(root, `checkout-${counter}`);
}

async function checkout(repository: string, commit: string): Promise<string> {
  const result = await fetchPinnedCommit({ repository, commit, destDir: freshDest(), allowLocal: true });
  return result.dir;
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

let upstream: string;
let mainCommits: string[];
let sideOnly: string;
let dangling: string;
let tagged: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'reachability-spec-'));
  fixtureEnv = fixtureGitEnv(root, { GIT_COMMITTER_DATE: '1600000000 +0000' });
  upstream = join(root, 'upstream');
  mkdirSync(upstream);
  git(upstream, ['init', '-q', '-b', 'main']);
  // 1 200 commits on main: more than the first shallow fetch (100) and the second (1 000).
  mainCommits = appendCommits(upstream, 'main', 1200, 'main');
  tagged = mainCommits[1189];
  git(upstream, ['tag', '-a', '-m', 'release', 'v1', tagged]);
  git(upstream, ['tag', 'light', tagged]);
  git(upstream, ['branch', 'side', mainCommits[1194]]);
  sideOnly = appendCommits(upstream, 'side', 1, 'side')[0];
  // A commit that exists in the repository but on no ref (an amended or force-pushed-away commit).
  dangling = git(upstream, ['commit-tree', '-p', mainCommits[1199], '-m', 'dangling', `${mainCommits[1199]}^{tree}`]);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('verifyCommitReachable', () => {
  it('accepts a commit on main and reports the ref tip', async () => {
    const commit = mainCommits[1196];
    const dir = await checkout(upstream, commit);
    await expect(
      verifyCommitReachable({ dir, repository: upstream, ref: 'refs/heads/main', commit, allowLocal: true }),
    ).resolves.toEqual({ ref: 'refs/heads/main', refCommit: mainCommits[1199] });
    // The checkout keeps its detached HEAD; the ref lands only in the private namespace, without tags.
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(commit);
    expect(git(dir, ['for-each-ref', '--format=%(refname)'])).toBe(REACHABILITY_REF);
    expect(git(dir, ['rev-parse', REACHABILITY_REF])).toBe(mainCommits[1199]);
  });

  it('accepts the tip itself and can be repeated on the same checkout', async () => {
    const commit = mainCommits[1199];
    const dir = await checkout(upstream, commit);
    const opts = { dir, repository: upstream, ref: 'refs/heads/main', commit, allowLocal: true };
    await expect(verifyCommitReachable(opts)).resolves.toEqual({ ref: 'refs/heads/main', refCommit: commit });
    await expect(verifyCommitReachable(opts)).resolves.toEqual({ ref: 'refs/heads/main', refCommit: commit });
  });

  it('refuses a commit that is only on another branch, naming the commit and the ref', async () => {
    const dir = await checkout(upstream, sideOnly);
    const err = await rejection(
      verifyCommitReachable({ dir, repository: upstream, ref: 'refs/heads/main', commit: sideOnly, allowLocal: true }),
      'NOT_REACHABLE',
    );
    expect(err.message).toContain(`commit ${sideOnly} is not reachable from refs/heads/main`);
    expect(err.message).not.toMatch(/within/);
    expect(err.details).toMatchObject({ commit: sideOnly, ref: 'refs/heads/main', refCommit: mainCommits[1199] });
    await expect(
      verifyCommitReachable({ dir, repository: upstream, ref: 'refs/heads/side', commit: sideOnly, allowLocal: true }),
    ).resolves.toEqual({ ref: 'refs/heads/side', refCommit: sideOnly });
  });

  it('refuses a dangling commit that protocol v2 serves by SHA', async () => {
    // The caveat of git-and-webhooks.md §2: the pinned fetch succeeds although no ref leads to it.
    const dir = await checkout(`file://${upstream}`, dangling);
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(dangling);
    const err = await rejection(
      verifyCommitReachable({
        dir,
        repository: `file://${upstream}`,
        ref: 'refs/heads/main',
        commit: dangling,
        allowLocal: true,
      }),
      'NOT_REACHABLE',
    );
    expect(err.message).toContain(`commit ${dangling} is not reachable from refs/heads/main`);
  });

  it('verifies against annotated and lightweight tags, peeling to the tagged commit', async () => {
    const before = mainCommits[1180];
    const dir = await checkout(upstream, before);
    for (const ref of ['refs/tags/v1', 'refs/tags/light']) {
      await expect(
        verifyCommitReachable({ dir, repository: upstream, ref, commit: before, allowLocal: true }),
      ).resolves.toEqual({ ref, refCommit: tagged });
    }
    const after = mainCommits[1195];
    const later = await checkout(upstream, after);
    const err = await rejection(
      verifyCommitReachable({ dir: later, repository: upstream, ref: 'refs/tags/v1', commit: after, allowLocal: true }),
      'NOT_REACHABLE',
    );
    expect(err.message).toContain(`commit ${after} is not reachable from refs/tags/v1`);
    expect(git(later, ['tag', '-l'])).toBe('');
  });

  it('fails with REF_NOT_FOUND for a ref the remote does not have', async () => {
    const commit = mainCommits[1199];
    const dir = await checkout(upstream, commit);
    for (const ref of ['refs/heads/nope', 'refs/tags/nope', 'refs/heads/ain']) {
      const err = await rejection(
        verifyCommitReachable({ dir, repository: upstream, ref, commit, allowLocal: true }),
        'REF_NOT_FOUND',
      );
      expect(err.message).toContain(ref);
    }
  });

  it('deepens the shallow history until it finds a deep ancestor, fetching no more than needed', async () => {
    const deep = mainCommits[1199 - 500];
    const dir = await checkout(upstream, deep);
    await expect(
      verifyCommitReachable({ dir, repository: upstream, ref: 'refs/heads/main', commit: deep, allowLocal: true }),
    ).resolves.toEqual({ ref: 'refs/heads/main', refCommit: mainCommits[1199] });
    // Found at depth 1 000 (tip and 999 ancestors), so the oldest 200 commits were never fetched.
    expect(git(dir, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    expect(git(dir, ['cat-file', '-t', mainCommits[1199 - 999]])).toBe('commit');
    expect(() => git(dir, ['cat-file', '-e', mainCommits[0]])).toThrow();

    const deeper = mainCommits[1199 - 1100];
    const other = await checkout(upstream, deeper);
    await expect(
      verifyCommitReachable({
        dir: other,
        repository: upstream,
        ref: 'refs/heads/main',
        commit: deeper,
        allowLocal: true,
      }),
    ).resolves.toEqual({ ref: 'refs/heads/main', refCommit: mainCommits[1199] });
  });

  it('deepens up to maxDepth and then refuses, saying the search was bounded', async () => {
    const commit = mainCommits[1199 - 150];
    const dir = await checkout(upstream, commit);
    const opts = { dir, repository: upstream, ref: 'refs/heads/main', commit, allowLocal: true };
    const err = await rejection(verifyCommitReachable({ ...opts, maxDepth: 120 }), 'NOT_REACHABLE');
    expect(err.message).toContain(`commit ${commit} is not reachable from refs/heads/main within its last 120 commits`);
    expect(err.details).toMatchObject({ maxDepth: 120 });
    await expect(verifyCommitReachable({ ...opts, maxDepth: 151 })).resolves.toEqual({
      ref: 'refs/heads/main',
      refCommit: mainCommits[1199],
    });
  });

  it('gives a definite "no" for an unrelated commit once the whole ref history is fetched', async () => {
    const other = join(root, 'unrelated');
    mkdirSync(other);
    git(other, ['init', '-q', '-b', 'main']);
    const [foreign] = appendCommits(other, 'main', 1, 'foreign');
    const dir = await checkout(other, foreign);
    const small = join(root, 'small');
    mkdirSync(small);
    git(small, ['init', '-q', '-b', 'main']);
    appendCommits(small, 'main', 3, 'small');
    const err = await rejection(
      verifyCommitReachable({ dir, repository: small, ref: 'refs/heads/main', commit: foreign, allowLocal: true }),
      'NOT_REACHABLE',
    );
    expect(err.message).not.toMatch(/within/);
  });

  it('fails with FETCH_FAILED when the repository cannot be read', async () => {
    const commit = mainCommits[1199];
    const dir = await checkout(upstream, commit);
    await rejection(
      verifyCommitReachable({
        dir,
        repository: join(root, 'does-not-exist'),
        ref: 'refs/heads/main',
        commit,
        allowLocal: true,
      }),
      'FETCH_FAILED',
    );
  });

  it('runs no hook configured in the checkout', async () => {
    const commit = mainCommits[1199];
    const dir = await checkout(upstream, commit);
    const marker = join(root, 'hook-ran');
    const hooks = join(root, 'evil-hooks');
    mkdirSync(hooks, { recursive: true });
    for (const name of ['reference-transaction', 'post-checkout']) {
      writeFileSync(join(hooks, name), `#!/bin/sh\ntouch ${marker}\n`);
      chmodSync(join(hooks, name), 0o755);
    }
    git(dir, ['config', 'core.hooksPath', hooks]);
    await verifyCommitReachable({ dir, repository: upstream, ref: 'refs/heads/main', commit, allowLocal: true });
    expect(existsSync(marker)).toBe(false);
  });

  it('ignores replace refs and info/grafts that fake ancestry in the checkout', async () => {
    const dir = await checkout(upstream, sideOnly);
    const opts = { dir, repository: upstream, ref: 'refs/heads/main', commit: sideOnly, allowLocal: true };
    await rejection(verifyCommitReachable(opts), 'NOT_REACHABLE');
    const tip = mainCommits[1199];
    // Each mechanism alone fools plain git; neither may fool the check.
    git(dir, ['replace', '--graft', tip, mainCommits[1198], sideOnly]);
    git(dir, ['merge-base', '--is-ancestor', sideOnly, tip]);
    await rejection(verifyCommitReachable(opts), 'NOT_REACHABLE');
    git(dir, ['replace', '-d', tip]);
    mkdirSync(join(dir, '.git', 'info'), { recursive: true });
    writeFileSync(join(dir, '.git', 'info', 'grafts'), `${tip} ${mainCommits[1198]} ${sideOnly}\n`);
    git(dir, ['merge-base', '--is-ancestor', sideOnly, tip]);
    await rejection(verifyCommitReachable(opts), 'NOT_REACHABLE');
  });

  it('validates every input before running git', async () => {
    const commit = mainCommits[1199];
    const dir = await checkout(upstream, commit);
    const base = { dir, repository: upstream, ref: 'refs/heads/main', commit, allowLocal: true };
    await rejection(verifyCommitReachable({ ...base, ref: 'main' }), 'INVALID_REF');
    await rejection(verifyCommitReachable({ ...base, ref: '--upload-pack=x' }), 'INVALID_REF');
    await rejection(verifyCommitReachable({ ...base, commit: 'HEAD' }), 'INVALID_COMMIT');
    await rejection(verifyCommitReachable({ ...base, allowLocal: false }), 'LOCAL_REPO_NOT_ALLOWED');
    await rejection(verifyCommitReachable({ ...base, repository: 'ext::sh -c id' }), 'INVALID_URL');
    await rejection(verifyCommitReachable({ ...base, maxDepth: 0 }), 'GIT_FAILED');
    await rejection(verifyCommitReachable({ ...base, dir: root }), 'INVALID_CHECKOUT');
    await rejection(verifyCommitReachable({ ...base, commit: sideOnly }), 'INVALID_CHECKOUT');
  });
});
