import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

import {
  checkoutEnv,
  checkTimeout,
  gitIn,
  openCheckout,
  requireCommitPresent,
  type CheckoutRepo,
} from './checkout-git';
import { parseCommitSha } from './commit-sha';
import { hardenedGitEnv } from './git-env';
import { parseGitRef } from './git-ref';
import { summarizeStderr } from './git-runner';
import { parseRepositoryUrl, type RepositoryUrl } from './repository-url';
import { SourceError } from './source.error';

/** Options for {@link verifyCommitReachable}. */
export interface VerifyCommitReachableOptions {
  /** Working tree of a checkout made by `fetchPinnedCommit`. */
  dir: string;
  /** The repository URL the checkout came from (validated again with `parseRepositoryUrl`). */
  repository: string;
  /** Full branch or tag ref the commit must be on, e.g. `refs/heads/main` (validated with `parseGitRef`). */
  ref: string;
  /** The pinned commit (full SHA); must be present in the checkout. */
  commit: string;
  /** Allow local paths, file:// and http:// to loopback (development and tests only). */
  allowLocal?: boolean;
  /** Timeout for each git command, in milliseconds (default 300 000). */
  timeoutMs?: number;
  /** Most commits of the ref's history fetched, counted from its tip (default 10 000). */
  maxDepth?: number;
}

/** Proof that a commit is an ancestor of (or equal to) a ref's tip, for provenance. */
export interface CommitReachability {
  /** The ref the commit was verified against, e.g. `refs/heads/main`. */
  ref: string;
  /** Commit the ref pointed to when it was fetched (annotated tags peeled). */
  refCommit: string;
}

/** Private namespace for the fetched ref: never a branch, tag or remote-tracking ref. */
export const REACHABILITY_REF = 'refs/securebuild/ref';

const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_DEPTH = 10_000;
const INITIAL_DEPTH = 100;
const DEPTH_GROWTH = 10;
/** git's own upper bound for --depth (`--unshallow` uses it). */
const MAX_GIT_DEPTH = 0x7fffffff;

/**
 * Proves that `commit` is on `ref` of `repository` (git-and-webhooks.md §2): a pinned SHA proves
 * content, not origin, because protocol v2 servers hand out any object they hold, including commits
 * on other branches, dangling commits and objects of forks sharing storage. Fetches the ref into the
 * private {@link REACHABILITY_REF} (no tags, no submodules), then requires
 * `git merge-base --is-ancestor <commit> <ref tip>`. The shallow fetch is deepened (100, 1 000,
 * 10 000 … commits) while the answer is "no" and the fetched history is still cut off, up to
 * `maxDepth`; a commit deeper than that is refused as not reachable (fail closed).
 *
 * Fails with NOT_REACHABLE (details name the commit, ref and ref tip), REF_NOT_FOUND when the
 * remote has no such ref, FETCH_FAILED, INVALID_CHECKOUT, or the validation codes of the inputs.
 */
export async function verifyCommitReachable(opts: VerifyCommitReachableOptions): Promise<CommitReachability> {
  const commit = parseCommitSha(opts.commit);
  const ref = parseGitRef(opts.ref);
  const allowLocal = opts.allowLocal ?? false;
  const repository = parseRepositoryUrl(opts.repository, { allowLocal });
  const timeoutMs = checkTimeout(opts.timeoutMs, DEFAULT_TIMEOUT_MS);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_GIT_DEPTH) {
    throw new SourceError('GIT_FAILED', `maxDepth must be an integer from 1 to ${MAX_GIT_DEPTH}`);
  }
  const repo = await openCheckout(opts.dir);

  const home = await mkdtemp(join(tmpdir(), 'secure-build-git-home-'));
  try {
    const env = checkoutEnv(hardenedGitEnv(home, allowLocal), repo);
    const ctx: Context = { repo, env, timeoutMs, repository, allowLocal, ref, commit };
    await requireCommitPresent(repo, env, timeoutMs, commit);

    let depth = Math.min(INITIAL_DEPTH, maxDepth);
    for (;;) {
      await fetchRef(ctx, depth);
      const refCommit = await peelFetchedRef(ctx);
      const answer = await gitIn(repo, env, timeoutMs, ['merge-base', '--is-ancestor', commit, refCommit]);
      if (answer.code === 0) return { ref, refCommit };
      if (answer.code !== 1) {
        throw new SourceError('GIT_FAILED', `git merge-base failed: ${summarizeStderr(answer.stderr)}`);
      }
      // "No" is only final once the ref's history is complete or as deep as allowed.
      const cutOff = await historyIsCutOff(ctx, refCommit);
      if (!cutOff || depth >= maxDepth) throw notReachable(ctx, refCommit, cutOff ? maxDepth : undefined);
      depth = Math.min(depth * DEPTH_GROWTH, maxDepth);
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

interface Context {
  repo: CheckoutRepo;
  env: Record<string, string>;
  timeoutMs: number;
  repository: RepositoryUrl;
  allowLocal: boolean;
  ref: string;
  commit: string;
}

/** Fetches the ref, at most `depth` commits deep, straight from the validated URL (not a remote's config). */
async function fetchRef(ctx: Context, depth: number): Promise<void> {
  const config = [
    '-c',
    'protocol.version=2',
    '-c',
    'fetch.recurseSubmodules=false',
    '-c',
    'fetch.writeCommitGraph=false',
  ];
  if (ctx.allowLocal && ctx.repository.kind === 'file') config.push('-c', 'protocol.file.allow=always');
  const args = [
    ...config,
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-recurse-submodules',
    '--no-write-fetch-head',
    '--no-auto-gc',
    `--depth=${depth}`,
    '--',
    ctx.repository.url,
    `+${ctx.ref}:${REACHABILITY_REF}`,
  ];
  const fetched = await gitIn(ctx.repo, ctx.env, ctx.timeoutMs, args);
  if (fetched.code === 0) return;
  if (!(await remoteHasRef(ctx))) {
    throw new SourceError('REF_NOT_FOUND', `${ctx.ref} does not exist in ${ctx.repository.display}`, {
      details: { repository: ctx.repository.display, ref: ctx.ref },
    });
  }
  throw new SourceError(
    'FETCH_FAILED',
    `cannot fetch ${ctx.ref} from ${ctx.repository.display}: ${summarizeStderr(fetched.stderr)}`,
    { details: { repository: ctx.repository.display, ref: ctx.ref } },
  );
}

/**
 * Tells a missing ref from other fetch failures by exit code and exact name, never by message text:
 * `ls-remote --exit-code` exits 2 when nothing matches, and its patterns match name suffixes, so the
 * listing is searched for the exact ref. Unreachable remotes count as "has the ref" (FETCH_FAILED).
 */
async function remoteHasRef(ctx: Context): Promise<boolean> {
  const config = ['-c', 'protocol.version=2'];
  if (ctx.allowLocal && ctx.repository.kind === 'file') config.push('-c', 'protocol.file.allow=always');
  const args = [...config, 'ls-remote', '--exit-code', '--refs', '--', ctx.repository.url, ctx.ref];
  const listed = await gitIn(ctx.repo, ctx.env, ctx.timeoutMs, args);
  if (listed.code === 2) return false;
  if (listed.code !== 0) return true;
  return listed.stdout
    .toString('utf8')
    .split('\n')
    .some((line) => line.split('\t')[1] === ctx.ref);
}

/** The commit the fetched ref points to, peeling annotated tags. */
async function peelFetchedRef(ctx: Context): Promise<string> {
  const args = ['rev-parse', '--verify', '--quiet', '--end-of-options', `${REACHABILITY_REF}^{commit}`];
  const peeled = await gitIn(ctx.repo, ctx.env, ctx.timeoutMs, args);
  const refCommit = peeled.stdout.toString('utf8').trim();
  if (peeled.code !== 0 || !/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(refCommit)) {
    throw new SourceError(
      'NOT_REACHABLE',
      `commit ${ctx.commit} is not reachable from ${ctx.ref}: the ref does not point to a commit`,
      { details: { commit: ctx.commit, ref: ctx.ref, repository: ctx.repository.display } },
    );
  }
  return refCommit;
}

/**
 * True when the local history of `refCommit` ends at a shallow boundary rather than at real root
 * commits: git shows shallow commits as parentless, so a parentless ancestor listed in the shallow
 * file means the server has more history that the ancestry check has not seen.
 */
async function historyIsCutOff(ctx: Context, refCommit: string): Promise<boolean> {
  const shallow = await readShallowCommits(ctx);
  if (shallow.size === 0) return false;
  const roots = await gitIn(ctx.repo, ctx.env, ctx.timeoutMs, ['rev-list', '--max-parents=0', refCommit, '--']);
  if (roots.code !== 0) {
    throw new SourceError('GIT_FAILED', `git rev-list failed: ${summarizeStderr(roots.stderr)}`);
  }
  return roots.stdout
    .toString('utf8')
    .split('\n')
    .some((sha) => shallow.has(sha.trim()));
}

async function readShallowCommits(ctx: Context): Promise<Set<string>> {
  const located = await gitIn(ctx.repo, ctx.env, ctx.timeoutMs, ['rev-parse', '--git-path', 'shallow']);
  if (located.code !== 0) {
    throw new SourceError('GIT_FAILED', `git rev-parse failed: ${summarizeStderr(located.stderr)}`);
  }
  const rel = located.stdout.toString('utf8').trim();
  const path = isAbsolute(rel) ? rel : join(ctx.repo.dir, rel);
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  );
}

function notReachable(ctx: Context, refCommit: string, depthLimit: number | undefined): SourceError {
  const within = depthLimit === undefined ? '' : ` within its last ${depthLimit} commits`;
  return new SourceError(
    'NOT_REACHABLE',
    `commit ${ctx.commit} is not reachable from ${ctx.ref}${within} (tip ${refCommit} in ${ctx.repository.display})`,
    {
      details: {
        commit: ctx.commit,
        ref: ctx.ref,
        refCommit,
        repository: ctx.repository.display,
        ...(depthLimit === undefined ? {} : { maxDepth: depthLimit }),
      },
    },
  );
}
