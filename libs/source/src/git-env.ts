import { GIT_PATH_ENV } from './git-runner';

/**
 * The complete environment for every git process (git-and-webhooks.md §1): nothing is inherited,
 * so no GIT_* variable, proxy, askpass helper, or user/system config of the caller can steer git.
 * HOME is a private empty directory; only https and ssh transports are enabled, plus file and
 * http when local repositories are allowed (tests). ssh never prompts and never trusts unknown
 * host keys (BatchMode).
 */
export function hardenedGitEnv(home: string, allowLocal: boolean): Record<string, string> {
  return {
    PATH: GIT_PATH_ENV,
    HOME: home,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: allowLocal ? 'https:ssh:file:http' : 'https:ssh',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
  };
}
