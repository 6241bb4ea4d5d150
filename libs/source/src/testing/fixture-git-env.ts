import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Environment for git commands that build test fixtures: a private HOME under `root`, no system or
 * global config, and a fixed identity and date so fixture commits are reproducible.
 */
export function fixtureGitEnv(root: string, extra: Record<string, string> = {}): Record<string, string> {
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Fixture',
    GIT_AUTHOR_EMAIL: 'fixture@example.org',
    GIT_AUTHOR_DATE: '1600000000 +0000',
    GIT_COMMITTER_NAME: 'Fixture',
    GIT_COMMITTER_EMAIL: 'fixture@example.org',
    ...extra,
  };
}
