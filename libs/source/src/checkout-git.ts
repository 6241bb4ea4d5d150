import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { runGit, summarizeStderr, type GitResult } from './git-runner';
import { SourceError } from './source.error';

/**
 * `-c` settings for every git command that inspects an existing checkout. Command-line config
 * overrides the repository's `.git/config`, so even a tampered checkout cannot make git run a hook,
 * an fsmonitor, a credential helper, an askpass program or a signature verifier of its choosing,
 * or change how signatures are judged. The signature programs are resolved through the fixed PATH
 * of the hardened environment.
 */
export const PINNED_CHECKOUT_CONFIG: readonly string[] = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.askPass=',
  '-c',
  'credential.helper=',
  '-c',
  'gc.auto=0',
  '-c',
  'maintenance.auto=false',
  '-c',
  'log.showSignature=false',
  '-c',
  'i18n.logOutputEncoding=UTF-8',
  '-c',
  'gpg.program=gpg',
  '-c',
  'gpg.openpgp.program=gpg',
  '-c',
  'gpg.x509.program=gpgsm',
  '-c',
  'gpg.ssh.program=ssh-keygen',
  '-c',
  'gpg.minTrustLevel=undefined',
  '-c',
  'gpg.ssh.revocationFile=/dev/null',
];

/** A checkout made by `fetchPinnedCommit`, located for git commands that must not search upwards. */
export interface CheckoutRepo {
  /** Absolute working-tree directory. */
  dir: string;
  /** Absolute `.git` directory, passed to git as GIT_DIR. */
  gitDir: string;
}

/**
 * Locates the `.git` directory of a checkout. It must be a real directory (not a symlink and not a
 * `gitdir:` file), so git never discovers some other repository above or beside `dir`.
 */
export async function openCheckout(dir: string): Promise<CheckoutRepo> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new SourceError('INVALID_CHECKOUT', 'checkout directory is empty');
  }
  const absolute = resolve(dir);
  const gitDir = join(absolute, '.git');
  const stat = await lstat(gitDir).catch(() => undefined);
  if (stat === undefined || !stat.isDirectory()) {
    throw new SourceError(
      'INVALID_CHECKOUT',
      `${absolute} is not a checkout made by fetchPinnedCommit: it has no .git directory`,
    );
  }
  return { dir: absolute, gitDir };
}

/**
 * The hardened environment plus what pins git to the checkout's own history: GIT_DIR (no
 * discovery), and neither replace refs nor an info/grafts file may rewrite parent links, which
 * would fake ancestry or signatures. The shallow file is left alone: it is how a shallow checkout
 * records where its history was cut.
 */
export function checkoutEnv(base: Record<string, string>, repo: CheckoutRepo): Record<string, string> {
  return { ...base, GIT_DIR: repo.gitDir, GIT_NO_REPLACE_OBJECTS: '1', GIT_GRAFT_FILE: '/dev/null' };
}

/** Validates a per-command timeout in milliseconds. */
export function checkTimeout(timeoutMs: number | undefined, fallback: number): number {
  const value = timeoutMs ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SourceError('GIT_FAILED', 'timeoutMs must be a positive number of milliseconds');
  }
  return value;
}

/** Runs git in a checkout with the given (complete) environment. */
export function gitIn(
  repo: CheckoutRepo,
  env: Record<string, string>,
  timeoutMs: number,
  args: readonly string[],
): Promise<GitResult> {
  return runGit([...PINNED_CHECKOUT_CONFIG, ...args], { cwd: repo.dir, env, timeoutMs });
}

/** Fails with INVALID_CHECKOUT unless `commit` is a commit object present in the checkout. */
export async function requireCommitPresent(
  repo: CheckoutRepo,
  env: Record<string, string>,
  timeoutMs: number,
  commit: string,
): Promise<void> {
  const result = await gitIn(repo, env, timeoutMs, ['cat-file', '-t', commit]);
  const type = result.stdout.toString('utf8').trim();
  if (result.code !== 0 || type !== 'commit') {
    const why = result.code === 0 ? `is a ${type}, not a commit` : `is not present (${summarizeStderr(result.stderr)})`;
    throw new SourceError('INVALID_CHECKOUT', `${commit} in the checkout at ${repo.dir} ${why}`);
  }
}
