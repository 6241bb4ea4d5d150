import { SandboxError } from './sandbox.error';

/** PATH inside the build, in the sandbox and in insecure mode alike. */
export const BUILD_PATH = '/usr/local/bin:/usr/bin:/bin';

/** PATH used to locate host tools (bwrap, prlimit); the caller's PATH is never inherited. */
export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Variables the sandbox sets itself; a recipe may not override them. */
export const RESERVED_ENV_NAMES: ReadonlySet<string> = new Set([
  'SOURCE_DATE_EPOCH',
  'TZ',
  'LC_ALL',
  'HOME',
  'PATH',
  'TMPDIR',
  'PWD',
  'OLDPWD',
  'SHLVL',
]);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws INVALID_OPTIONS unless `name` is a portable, non-reserved environment variable name. */
export function validateEnvName(name: string): void {
  if (!ENV_NAME.test(name)) {
    throw new SandboxError('INVALID_OPTIONS', `invalid environment variable name ${JSON.stringify(name)}`);
  }
  if (RESERVED_ENV_NAMES.has(name)) {
    throw new SandboxError(
      'INVALID_OPTIONS',
      `environment variable ${name} is set by the sandbox and cannot be overridden`,
    );
  }
}

/**
 * The complete environment of the build: the fixed reproducibility variables plus the recipe's
 * validated variables. Nothing is inherited from the worker process.
 */
export function buildEnvironment(
  recipeEnv: Record<string, string>,
  sourceDateEpoch: number,
  dirs: { home: string; tmp: string },
): Record<string, string> {
  if (!Number.isSafeInteger(sourceDateEpoch) || sourceDateEpoch < 0) {
    throw new SandboxError('INVALID_OPTIONS', 'sourceDateEpoch must be a non-negative integer (unix seconds)');
  }
  const env: Record<string, string> = {
    SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    TZ: 'UTC',
    LC_ALL: 'C.UTF-8',
    HOME: dirs.home,
    PATH: BUILD_PATH,
    TMPDIR: dirs.tmp,
  };
  for (const [name, value] of Object.entries(recipeEnv)) {
    validateEnvName(name);
    if (typeof value !== 'string' || value.includes('\0')) {
      throw new SandboxError('INVALID_OPTIONS', `environment variable ${name} must be a string without NUL bytes`);
    }
    env[name] = value;
  }
  return env;
}
