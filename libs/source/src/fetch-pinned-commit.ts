import { lstat, mkdir, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';

import { objectFormatOf, parseCommitSha, type ObjectFormat } from './commit-sha';
import { hardenedGitEnv } from './git-env';
import { runGit, summarizeStderr } from './git-runner';
import { parseRepositoryUrl, resolveSubmoduleUrl, type RepositoryUrl } from './repository-url';
import { SourceError } from './source.error';
import { isSafeSubmodulePath, parseSubmoduleConfig, parseTreeListing } from './submodule-config';

/** A submodule checked out at the commit its gitlink pins. */
export interface SubmoduleCheckout {
  /** Path relative to the top-level checkout (nested submodules use their full path). */
  path: string;
  /** Normalized, credential-free URL the submodule was fetched from. */
  url: string;
  /** Commit id from the gitlink; the submodule's HEAD was verified to equal it. */
  commit: string;
}

/** A verified checkout of one pinned commit, with everything provenance needs to describe it. */
export interface SourceCheckout {
  /** Absolute path of the working tree. */
  dir: string;
  /** Normalized, credential-free repository URL. */
  repository: string;
  /** The pinned commit id (lower case); equals `git rev-parse HEAD`. */
  commit: string;
  /** Id of the commit's root tree. */
  treeId: string;
  /** Committer time in unix seconds; the build's SOURCE_DATE_EPOCH. */
  commitTime: number;
  /** Hash algorithm of the repository. */
  objectFormat: ObjectFormat;
  /** Every submodule, depth-first, each pinned by its gitlink. */
  submodules: SubmoduleCheckout[];
  /** Version of the git client that made the checkout. */
  gitVersion: string;
}

/** Options for {@link fetchPinnedCommit}. */
export interface FetchPinnedCommitOptions {
  /** Repository URL, validated with {@link parseRepositoryUrl}. */
  repository: string;
  /** Full commit id (40 or 64 hex). */
  commit: string;
  /** Destination directory; must not exist yet or be empty. */
  destDir: string;
  /** Allow local paths, file:// and http:// to loopback, for the superproject and submodules (tests only). */
  allowLocal?: boolean;
  /** Timeout for each git command, in milliseconds (default 300 000). */
  timeoutMs?: number;
  /** Receives progress lines; never contains credentials. */
  onLog?: (line: string) => void;
}

const DEFAULT_TIMEOUT_MS = 300_000;
const MAX_SUBMODULE_DEPTH = 8;
const MAX_SUBMODULES = 256;

interface Context {
  env: Record<string, string>;
  timeoutMs: number;
  allowLocal: boolean;
  objectFormat: ObjectFormat;
  log: (line: string) => void;
  count: number;
}

/**
 * Fetches exactly one pinned commit (depth 1, by id, protocol v2) into `destDir`, checks it out
 * detached and verifies HEAD, then does the same for every submodule gitlink, recursively. All
 * inputs are validated before they reach git's argv; git runs with a hardened environment and a
 * per-command timeout. Every `.gitmodules` URL of a commit is validated before any submodule is
 * fetched.
 */
export async function fetchPinnedCommit(opts: FetchPinnedCommitOptions): Promise<SourceCheckout> {
  const commit = parseCommitSha(opts.commit);
  const allowLocal = opts.allowLocal ?? false;
  const repository = parseRepositoryUrl(opts.repository, { allowLocal });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SourceError('GIT_FAILED', 'timeoutMs must be a positive number of milliseconds');
  }
  const dir = resolve(opts.destDir);
  await prepareDestination(dir);

  const home = await mkdtemp(join(tmpdir(), 'secure-build-git-home-'));
  try {
    const ctx: Context = {
      env: hardenedGitEnv(home, allowLocal),
      timeoutMs,
      allowLocal,
      objectFormat: objectFormatOf(commit),
      log: opts.onLog ?? (() => undefined),
      count: 0,
    };
    const gitVersion = await readGitVersion(ctx);
    ctx.log(`fetching ${commit} from ${repository.display} (git ${gitVersion})`);
    const { treeId, commitTime } = await checkoutCommit(ctx, repository, commit, dir);
    const submodules = await checkoutSubmodules(ctx, repository, dir, '', 0);
    return {
      dir,
      repository: repository.url,
      commit,
      treeId,
      commitTime,
      objectFormat: ctx.objectFormat,
      submodules,
      gitVersion,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function prepareDestination(dir: string): Promise<void> {
  const stat = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (stat === undefined) {
    await mkdir(dir, { recursive: true });
    return;
  }
  if (!stat.isDirectory()) throw new SourceError('INVALID_DESTINATION', `destination ${dir} is not a directory`);
  if ((await readdir(dir)).length > 0) throw new SourceError('INVALID_DESTINATION', `destination ${dir} is not empty`);
}

async function git(ctx: Context, args: string[], cwd?: string, forwardStderr = false) {
  return runGit(args, {
    cwd,
    env: ctx.env,
    timeoutMs: ctx.timeoutMs,
    onStderrLine: forwardStderr ? (line) => ctx.log(`git: ${line}`) : undefined,
  });
}

async function gitOutput(ctx: Context, args: string[], cwd: string, what: string): Promise<string> {
  const result = await git(ctx, args, cwd);
  if (result.code !== 0) {
    throw new SourceError('GIT_FAILED', `git could not ${what}: ${summarizeStderr(result.stderr)}`);
  }
  return result.stdout.toString('utf8');
}

async function readGitVersion(ctx: Context): Promise<string> {
  const result = await git(ctx, ['--version']);
  const version = /^git version (\S+)/.exec(result.stdout.toString('utf8'))?.[1];
  if (result.code !== 0 || version === undefined) throw new SourceError('GIT_FAILED', 'cannot determine git version');
  return version;
}

/** Steps of git-and-webhooks.md §1 for one repository; returns the verified tree id and commit time. */
async function checkoutCommit(
  ctx: Context,
  repository: RepositoryUrl,
  commit: string,
  dir: string,
): Promise<{ treeId: string; commitTime: number }> {
  await gitOutput(ctx, ['init', '-q', '--template=', `--object-format=${ctx.objectFormat}`, dir], dir, 'init');
  await gitOutput(ctx, ['remote', 'add', 'origin', '--', repository.url], dir, 'add the remote');

  const config = ['-c', 'protocol.version=2'];
  if (ctx.allowLocal && repository.kind === 'file') config.push('-c', 'protocol.file.allow=always');
  const fetchArgs = [...config, 'fetch', '--no-tags', '--no-recurse-submodules', '--depth=1', 'origin', commit];
  const fetched = await git(ctx, fetchArgs, dir, true);
  if (fetched.code !== 0) {
    throw new SourceError(
      'FETCH_FAILED',
      `cannot fetch commit ${commit} from ${repository.display} (does the commit exist there?): ` +
        summarizeStderr(fetched.stderr),
      { details: { repository: repository.display, commit } },
    );
  }

  const type = (await gitOutput(ctx, ['cat-file', '-t', commit], dir, 'read the fetched object')).trim();
  if (type !== 'commit') {
    throw new SourceError('INVALID_COMMIT', `${commit} in ${repository.display} is a ${type}, not a commit`);
  }
  const checkout = await git(ctx, ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', commit], dir);
  if (checkout.code !== 0) {
    throw new SourceError('GIT_FAILED', `cannot check out ${commit}: ${summarizeStderr(checkout.stderr)}`);
  }
  const head = (await gitOutput(ctx, ['rev-parse', '--verify', 'HEAD'], dir, 'read HEAD')).trim();
  if (head !== commit) {
    throw new SourceError('COMMIT_MISMATCH', `HEAD is ${head} after checkout, expected ${commit}`, {
      details: { expected: commit, actual: head },
    });
  }
  const treeId = (await gitOutput(ctx, ['rev-parse', '--verify', 'HEAD^{tree}'], dir, 'read the tree id')).trim();
  const ct = (await gitOutput(ctx, ['log', '-1', '--format=%ct', 'HEAD'], dir, 'read the commit time')).trim();
  if (!/^\d+$/.test(ct)) throw new SourceError('GIT_FAILED', `unexpected committer time "${ct}"`);
  return { treeId, commitTime: Number(ct) };
}

interface PlannedSubmodule {
  path: string;
  commit: string;
  repository: RepositoryUrl;
}

/** Validates every submodule of the commit checked out in `dir`, then fetches each at its gitlink. */
async function checkoutSubmodules(
  ctx: Context,
  superproject: RepositoryUrl,
  dir: string,
  prefix: string,
  depth: number,
): Promise<SubmoduleCheckout[]> {
  const listing = await gitOutput(ctx, ['ls-tree', '-r', '-z', '--full-tree', 'HEAD'], dir, 'list the tree');
  const { gitlinks, gitmodulesMode } = parseTreeListing(listing);
  if (gitlinks.length === 0) return [];
  if (depth >= MAX_SUBMODULE_DEPTH) {
    throw new SourceError('SUBMODULE_INVALID', `submodules nested deeper than ${MAX_SUBMODULE_DEPTH} levels`);
  }
  if (gitmodulesMode !== '100644') {
    throw new SourceError(
      'SUBMODULE_INVALID',
      gitmodulesMode === undefined
        ? `${prefix || './'} has gitlinks but no .gitmodules`
        : `${prefix}.gitmodules is not a regular file (mode ${gitmodulesMode})`,
    );
  }
  // Read .gitmodules from the commit itself (never the working tree), without following includes.
  const configArgs = ['config', '-z', '--no-includes', '--blob=HEAD:.gitmodules', '--get-regexp'];
  const config = await git(ctx, [...configArgs, '^submodule\\..*\\.(path|url)$'], dir);
  if (config.code !== 0 && config.code !== 1) {
    throw new SourceError(
      'SUBMODULE_INVALID',
      `${prefix}.gitmodules cannot be parsed: ${summarizeStderr(config.stderr)}`,
    );
  }
  const entries = parseSubmoduleConfig(config.stdout.toString('utf8'));

  const planned: PlannedSubmodule[] = [];
  for (const link of gitlinks) {
    const fullPath = prefix + link.path;
    if (!isSafeSubmodulePath(link.path)) {
      throw new SourceError('SUBMODULE_INVALID', `submodule path "${fullPath}" is not a safe relative path`);
    }
    const matches = entries.filter((e) => e.path === link.path);
    if (matches.length !== 1) {
      throw new SourceError(
        'SUBMODULE_INVALID',
        matches.length === 0
          ? `gitlink "${fullPath}" has no entry in .gitmodules`
          : `gitlink "${fullPath}" has ${matches.length} entries in .gitmodules`,
      );
    }
    const rawUrl = matches[0].url;
    if (rawUrl === undefined) throw new SourceError('SUBMODULE_INVALID', `submodule "${fullPath}" has no url`);
    let repository: RepositoryUrl;
    try {
      repository = resolveSubmoduleUrl(rawUrl, superproject, { allowLocal: ctx.allowLocal });
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      throw new SourceError('SUBMODULE_INVALID', `submodule "${fullPath}" has an unacceptable URL: ${err.message}`, {
        cause: err,
        details: { path: fullPath, reason: err.code },
      });
    }
    let commit: string;
    try {
      commit = parseCommitSha(link.commit);
    } catch (err) {
      throw new SourceError('SUBMODULE_INVALID', `gitlink "${fullPath}" does not hold a full commit id`, {
        cause: err,
      });
    }
    planned.push({ path: link.path, commit, repository });
  }
  ctx.count += planned.length;
  if (ctx.count > MAX_SUBMODULES) {
    throw new SourceError('SUBMODULE_INVALID', `more than ${MAX_SUBMODULES} submodules`);
  }

  const result: SubmoduleCheckout[] = [];
  for (const sub of planned) {
    const fullPath = prefix + sub.path;
    const subDir = await submoduleDirectory(dir, sub.path, fullPath);
    ctx.log(`submodule ${fullPath}: fetching ${sub.commit} from ${sub.repository.display}`);
    try {
      await checkoutCommit(ctx, sub.repository, sub.commit, subDir);
    } catch (err) {
      if (err instanceof SourceError) {
        throw new SourceError(err.code, `submodule "${fullPath}": ${err.message}`, {
          cause: err,
          details: err.details,
        });
      }
      throw err;
    }
    result.push({ path: fullPath, url: sub.repository.url, commit: sub.commit });
    result.push(...(await checkoutSubmodules(ctx, sub.repository, subDir, `${fullPath}/`, depth + 1)));
  }
  return result;
}

/** The empty directory git created for a gitlink, after checking that no symlink leads elsewhere. */
async function submoduleDirectory(superDir: string, path: string, fullPath: string): Promise<string> {
  const target = join(superDir, path);
  const stat = await lstat(target).catch(() => undefined);
  if (stat === undefined || !stat.isDirectory()) {
    throw new SourceError('SUBMODULE_INVALID', `submodule path "${fullPath}" is not a directory in the checkout`);
  }
  const real = await realpath(target);
  const rel = relative(await realpath(superDir), real);
  if (rel !== path.split('/').join(sep)) {
    throw new SourceError('SUBMODULE_INVALID', `submodule path "${fullPath}" leads outside the checkout`);
  }
  if ((await readdir(target)).length > 0) {
    throw new SourceError('SUBMODULE_INVALID', `submodule path "${fullPath}" is not empty`);
  }
  return target;
}
