import { SandboxError } from './sandbox.error';

/** Per-process resource limits applied with prlimit(1) to the sandbox and everything it starts. */
export interface ResourceLimits {
  /** Address-space limit (RLIMIT_AS), bytes. */
  memoryBytes?: number;
  /** CPU time per process (RLIMIT_CPU), seconds. */
  cpuSeconds?: number;
  /** Processes of the sandbox's host uid (RLIMIT_NPROC), including the sandbox supervisor itself. */
  maxProcesses?: number;
  /** Largest file a process may write (RLIMIT_FSIZE), bytes. */
  maxFileBytes?: number;
  /** Open file descriptors per process (RLIMIT_NOFILE). */
  maxOpenFiles?: number;
  /** Size of each private tmpfs (/tmp and HOME), bytes; default 512 MiB. */
  tmpSizeBytes?: number;
}

const PRLIMIT_FLAGS: [keyof ResourceLimits, string][] = [
  ['memoryBytes', '--as'],
  ['cpuSeconds', '--cpu'],
  ['maxProcesses', '--nproc'],
  ['maxFileBytes', '--fsize'],
  ['maxOpenFiles', '--nofile'],
];

/** prlimit arguments (soft = hard) for the given limits; empty when none is set. */
export function prlimitArgs(limits: ResourceLimits | undefined): string[] {
  const args: string[] = [];
  for (const [key, flag] of PRLIMIT_FLAGS) {
    const value = limits?.[key];
    if (value === undefined) continue;
    assertPositiveInteger(key, value);
    args.push(`${flag}=${value}`);
  }
  return args;
}

/** Throws INVALID_OPTIONS unless `value` is a positive safe integer. */
export function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new SandboxError('INVALID_OPTIONS', `${name} must be a positive integer`);
  }
}
