import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Path of the wallet-signer fixture sources. */
export const WALLET_SIGNER_FIXTURE = resolve(__dirname, '../fixtures/wallet-signer');

/** A git repository created for one test, with its commits in order. */
export interface FixtureRepo {
  dir: string;
  commits: string[];
}

const FIXED_ENV = {
  GIT_AUTHOR_NAME: 'Wallet Dev',
  GIT_AUTHOR_EMAIL: 'dev@wallet.example',
  GIT_COMMITTER_NAME: 'Wallet Dev',
  GIT_COMMITTER_EMAIL: 'dev@wallet.example',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Runs git in `dir` with a fixed identity and no user configuration. */
export function git(dir: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd: dir,
    env: { ...process.env, ...FIXED_ENV, ...env },
    encoding: 'utf8',
  }).trim();
}

/**
 * Creates a repository from a fixture folder: the first commit holds the fixture, and `extra` files
 * (path → content) can override or add files in a second commit.
 */
export function createFixtureRepo(fixtureDir = WALLET_SIGNER_FIXTURE, extra?: Record<string, string>): FixtureRepo {
  const dir = mkdtempSync(join(tmpdir(), 'sb-fixture-'));
  git(dir, ['init', '-q', '-b', 'main']);
  cpSync(fixtureDir, dir, { recursive: true });
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'wallet-signer 1.0'], {
    GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
  });
  const commits = [git(dir, ['rev-parse', 'HEAD'])];
  if (extra) {
    for (const [path, content] of Object.entries(extra)) writeFileSync(join(dir, path), content, { mode: 0o755 });
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'change'], {
      GIT_AUTHOR_DATE: '2025-02-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2025-02-01T00:00:00Z',
    });
    commits.push(git(dir, ['rev-parse', 'HEAD']));
  }
  return { dir, commits };
}
