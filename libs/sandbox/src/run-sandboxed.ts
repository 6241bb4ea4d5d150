import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';

import {
  bubblewrapArgs,
  cleanAbsolutePath,
  isWithin,
  RESERVED_SANDBOX_PATHS,
  SANDBOX_HOME,
  SANDBOX_TMP,
} from './bwrap-args';
import { copySourceTree } from './copy-tree';
import { assertSandboxAvailable, hostRootLinks } from './detect-sandbox';
import { assertTraversable, resolveHostUser, type HostUser } from './host-user';
import { runProcessTree, type LogStream, type ProcessOutcome } from './process-runner';
import { assertPositiveInteger, prlimitArgs, type ResourceLimits } from './resource-limits';
import { buildEnvironment, HOST_PATH } from './sandbox-env';
import { SandboxError } from './sandbox.error';
import { writeSandboxEtc } from './sandbox-etc';

/** `bubblewrap` isolates the build; `insecure-no-sandbox` is for development only and is reported as such. */
export type SandboxMode = 'bubblewrap' | 'insecure-no-sandbox';

/** Options for {@link runSandboxed}. */
export interface SandboxRunOptions {
  /** The checkout; only read. The build works on a fresh copy (without .git) at `workDir/src`. */
  sourceDir: string;
  /**
   * A fresh directory for this run (created if missing; `workDir/src` must not exist). In bubblewrap
   * mode it is made mode 0711 and every ancestor must be searchable by the sandbox's host user.
   */
  workDir: string;
  /** Where the copy appears inside the sandbox (default `/src`); vary it between reproducibility builds. */
  mountPath?: string;
  /** Argv to run, or a shell command run as `/bin/sh -c <command>`. */
  command: string | string[];
  /** Recipe-declared variables; names must match [A-Za-z_][A-Za-z0-9_]* and not be reserved. */
  env: Record<string, string>;
  /** Unix seconds exported as SOURCE_DATE_EPOCH and used as the mtime of every copied file. */
  sourceDateEpoch: number;
  /** Wall-clock limit; on expiry the whole process tree is killed. */
  timeoutMs: number;
  limits?: ResourceLimits;
  mode: SandboxMode;
  /** Host directories bound read-only at the same path; default /usr and /etc/alternatives. */
  toolchainDirs?: string[];
  /** bubblewrap binary; default `bwrap` on a fixed system PATH. */
  bwrapPath?: string;
  /** Host user bubblewrap runs as when the worker is root; default 1000:1000. */
  hostUser?: HostUser;
  /** Receives build output as it arrives. */
  onLog?: (chunk: string, stream: LogStream) => void;
  /** Aborting kills the build's whole process tree; the run then fails with BUILD_CANCELLED. */
  signal?: AbortSignal;
}

/** How the build was isolated; recorded in provenance. */
export type SandboxDescription =
  { kind: 'bubblewrap'; version: string; network: 'none'; mountPath: string } | { kind: 'none'; insecure: true };

/** A build that exited 0. */
export interface SandboxResult {
  /** Host path of the build tree after the build (`workDir/src`). */
  treeDir: string;
  exitCode: 0;
  durationMs: number;
  sandbox: SandboxDescription;
}

const DEFAULT_MOUNT_PATH = '/src';
const DEFAULT_TOOLCHAIN_DIRS = ['/usr', '/etc/alternatives'];
const DEFAULT_TMP_SIZE = 512 * 1024 * 1024;
/** Sets the umask the build starts with, then replaces itself with the build command. */
const UMASK_WRAPPER = ['/bin/sh', '-c', 'umask 022 && exec "$@"', 'sandbox-build'];
/**
 * The same inside bubblewrap, after writing a start marker to fd 3 and closing it: output on fd 3
 * proves the sandbox was set up, so a non-zero exit without it is a sandbox failure, not a build failure.
 */
const SANDBOX_WRAPPER = ['/bin/sh', '-c', 'printf started >&3 && exec 3>&- && umask 022 && exec "$@"', 'sandbox-build'];

/**
 * Runs one build command on a fresh copy of `sourceDir` with a fixed environment, a wall-clock
 * timeout and optional rlimits: in bubblewrap mode without network, host files, capabilities or
 * host environment; in insecure mode directly on the host (development only). Resolves only when
 * the command exits 0; otherwise rejects with a {@link SandboxError}.
 */
export async function runSandboxed(opts: SandboxRunOptions): Promise<SandboxResult> {
  assertPositiveInteger('timeoutMs', opts.timeoutMs);
  const command = normalizeCommand(opts.command);
  const limitArgs = prlimitArgs(opts.limits);
  const tmpSizeBytes = opts.limits?.tmpSizeBytes ?? DEFAULT_TMP_SIZE;
  assertPositiveInteger('tmpSizeBytes', tmpSizeBytes);
  if (opts.mode !== 'bubblewrap' && opts.mode !== 'insecure-no-sandbox') {
    throw new SandboxError('INVALID_OPTIONS', `unknown sandbox mode ${JSON.stringify(opts.mode)}`);
  }
  const workDir = resolve(opts.workDir);
  const treeDir = join(workDir, 'src');

  if (opts.mode === 'insecure-no-sandbox') {
    const env = buildEnvironment(opts.env, opts.sourceDateEpoch, {
      home: join(workDir, 'home'),
      tmp: join(workDir, 'tmp'),
    });
    await prepareWorkDir(workDir, treeDir);
    await copySourceTree(resolve(opts.sourceDir), treeDir, { mtime: opts.sourceDateEpoch });
    await mkdir(env.HOME, { mode: 0o700 });
    await mkdir(env.TMPDIR, { mode: 0o700 });
    const argv = [...UMASK_WRAPPER, ...command];
    const [file, args] = limitArgs.length > 0 ? ['prlimit', [...limitArgs, '--', ...argv]] : [argv[0], argv.slice(1)];
    const outcome = await runProcessTree(file, args, {
      cwd: treeDir,
      env,
      timeoutMs: opts.timeoutMs,
      onLog: opts.onLog,
      signal: opts.signal,
    });
    checkOutcome(outcome, opts.timeoutMs, true);
    return { treeDir, exitCode: 0, durationMs: outcome.durationMs, sandbox: { kind: 'none', insecure: true } };
  }

  const env = buildEnvironment(opts.env, opts.sourceDateEpoch, { home: SANDBOX_HOME, tmp: SANDBOX_TMP });
  const toolchainDirs = await validateToolchainDirs(opts.toolchainDirs);
  const mountPath = validateMountPath(opts.mountPath ?? DEFAULT_MOUNT_PATH, toolchainDirs);
  const user = resolveHostUser(opts.hostUser);
  const bwrap = opts.bwrapPath ?? 'bwrap';
  const detection = await assertSandboxAvailable({ bwrapPath: bwrap, hostUser: opts.hostUser });

  await prepareWorkDir(workDir, treeDir);
  await chmod(workDir, 0o711);
  await assertTraversable(workDir, user);
  await copySourceTree(resolve(opts.sourceDir), treeDir, { owner: user, mtime: opts.sourceDateEpoch });
  const etcFiles = await writeSandboxEtc(join(workDir, 'sandbox-etc'));

  const bwrapArgs = bubblewrapArgs({
    env,
    toolchainDirs,
    rootLinks: await hostRootLinks(toolchainDirs),
    etcFiles,
    treeDir,
    mountPath,
    tmpSizeBytes,
    command: [...SANDBOX_WRAPPER, ...command],
  });
  const [file, args] =
    limitArgs.length > 0 ? ['prlimit', [...limitArgs, '--', bwrap, ...bwrapArgs]] : [bwrap, bwrapArgs];
  const outcome = await runProcessTree(file, args, {
    env: { PATH: HOST_PATH },
    user,
    timeoutMs: opts.timeoutMs,
    onLog: opts.onLog,
    markerFd: true,
    signal: opts.signal,
  });
  if (!outcome.markerSeen && !outcome.timedOut && !outcome.aborted && outcome.exitCode !== 0) {
    throw new SandboxError('SANDBOX_FAILED', `bubblewrap could not start the build: ${outcome.stderrTail.trim()}`);
  }
  checkOutcome(outcome, opts.timeoutMs, false);
  return {
    treeDir,
    exitCode: 0,
    durationMs: outcome.durationMs,
    sandbox: { kind: 'bubblewrap', version: detection.version, network: 'none', mountPath },
  };
}

function normalizeCommand(command: string | string[]): string[] {
  const argv = typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
  if (argv.length === 0 || argv[0] === '') throw new SandboxError('INVALID_OPTIONS', 'command is empty');
  if (argv.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw new SandboxError('INVALID_OPTIONS', 'command arguments must be strings without NUL bytes');
  }
  return argv;
}

function validateMountPath(mountPath: string, toolchainDirs: string[]): string {
  const clean = cleanAbsolutePath(mountPath);
  if (clean === undefined) {
    throw new SandboxError('INVALID_OPTIONS', `mountPath ${JSON.stringify(mountPath)} must be a plain absolute path`);
  }
  const clash = [...RESERVED_SANDBOX_PATHS, ...toolchainDirs].find((p) => isWithin(clean, p) || isWithin(p, clean));
  if (clash !== undefined) {
    throw new SandboxError('INVALID_OPTIONS', `mountPath ${clean} overlaps ${clash}, which the sandbox provides`);
  }
  return clean;
}

async function validateToolchainDirs(dirs: string[] | undefined): Promise<string[]> {
  const result: string[] = [];
  for (const dir of dirs ?? DEFAULT_TOOLCHAIN_DIRS) {
    const clean = cleanAbsolutePath(dir);
    const shadowed = ['/proc', '/dev', '/tmp', '/home'].some((p) => clean !== undefined && isWithin(clean, p));
    if (clean === undefined || shadowed) {
      throw new SandboxError('INVALID_OPTIONS', `toolchain directory ${JSON.stringify(dir)} is not allowed`);
    }
    const isDir = await stat(clean).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir) result.push(clean);
    else if (dirs !== undefined)
      throw new SandboxError('INVALID_OPTIONS', `toolchain directory ${clean} does not exist`);
  }
  return result;
}

async function prepareWorkDir(workDir: string, treeDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  if (
    await lstat(treeDir).then(
      () => true,
      () => false,
    )
  ) {
    throw new SandboxError('INVALID_OPTIONS', `workDir must be fresh: ${treeDir} already exists`);
  }
}

function checkOutcome(outcome: ProcessOutcome, timeoutMs: number, insecure: boolean): void {
  if (outcome.aborted) throw new SandboxError('BUILD_CANCELLED', 'build was cancelled and its processes killed');
  if (outcome.timedOut) {
    throw new SandboxError('BUILD_TIMEOUT', `build exceeded its ${timeoutMs} ms timeout and was killed`, {
      details: { timeoutMs },
    });
  }
  if (outcome.exitCode === 0) return;
  // bubblewrap reports a child killed by signal N as exit code 128 + N.
  const signal =
    outcome.signal ??
    (!insecure && outcome.exitCode !== null && outcome.exitCode > 128 ? signalName(outcome.exitCode - 128) : undefined);
  const how =
    signal === undefined
      ? `exited with code ${outcome.exitCode}`
      : `was killed by signal ${signal}${outcome.exitCode === null ? '' : ` (exit code ${outcome.exitCode})`}`;
  throw new SandboxError('BUILD_FAILED', `build command ${how}`, {
    details: { exitCode: outcome.exitCode, signal: signal ?? null },
  });
}

function signalName(n: number): NodeJS.Signals | undefined {
  return (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, v]) => v === n)?.[0];
}
