import { lstat, readlink } from 'node:fs/promises';

import type { RootLink } from './bwrap-args';
import { resolveHostUser, type HostUser } from './host-user';
import { runProcessTree } from './process-runner';
import { HOST_PATH } from './sandbox-env';
import { SandboxError } from './sandbox.error';

/** Result of {@link detectSandbox}. */
export type SandboxDetection =
  { available: true; kind: 'bubblewrap'; version: string } | { available: false; reason: string };

/** Options for {@link detectSandbox}. */
export interface DetectSandboxOptions {
  /** bubblewrap binary; default `bwrap` looked up on a fixed system PATH. */
  bwrapPath?: string;
  /** Host user bubblewrap runs as when the worker is root (see {@link resolveHostUser}). */
  hostUser?: HostUser;
}

const PROBE_TIMEOUT_MS = 15_000;

/**
 * Feature-detects bubblewrap by running `bwrap --unshare-all … true` exactly as builds will
 * (same host user, user namespace, no capabilities), since an installed bwrap can still be unusable
 * (e.g. seccomp in unprivileged containers blocks unshare).
 */
export async function detectSandbox(opts: DetectSandboxOptions = {}): Promise<SandboxDetection> {
  const bwrap = opts.bwrapPath ?? 'bwrap';
  let user: HostUser | undefined;
  try {
    user = resolveHostUser(opts.hostUser);
  } catch (err) {
    return { available: false, reason: (err as Error).message };
  }
  const env = { PATH: HOST_PATH };
  let versionOutput = '';
  try {
    const result = await runProcessTree(bwrap, ['--version'], {
      env,
      user,
      timeoutMs: PROBE_TIMEOUT_MS,
      onLog: (chunk, stream) => {
        if (stream === 'stdout') versionOutput += chunk;
      },
    });
    if (result.exitCode === 127)
      return { available: false, reason: `${bwrap} not found (bubblewrap is not installed)` };
    if (result.exitCode !== 0)
      return { available: false, reason: `${bwrap} --version failed: ${result.stderrTail.trim()}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      available: false,
      reason:
        code === 'ENOENT'
          ? `${bwrap} not found (bubblewrap is not installed)`
          : `cannot run ${bwrap}: ${(err as Error).message}`,
    };
  }
  const version = /bubblewrap (\S+)/.exec(versionOutput)?.[1] ?? versionOutput.trim();

  const probe = ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session'];
  probe.push('--clearenv', '--ro-bind', '/usr', '/usr');
  for (const link of await hostRootLinks([])) {
    if ('symlinkTo' in link) probe.push('--symlink', link.symlinkTo, link.path);
    else probe.push('--ro-bind', link.path, link.path);
  }
  probe.push('--proc', '/proc', '--dev', '/dev', '--cap-drop', 'ALL', '--uid', '1000', '--gid', '1000');
  probe.push('--', 'true');
  const result = await runProcessTree(bwrap, probe, { env, user, timeoutMs: PROBE_TIMEOUT_MS }).catch((err: Error) => ({
    exitCode: -1,
    stderrTail: err.message,
    timedOut: false,
  }));
  if (result.timedOut) return { available: false, reason: 'bubblewrap probe timed out' };
  if (result.exitCode !== 0) {
    return { available: false, reason: `bubblewrap cannot create a sandbox here: ${result.stderrTail.trim()}` };
  }
  return { available: true, kind: 'bubblewrap', version };
}

/**
 * How /bin, /lib, /lib64 and /sbin appear in the sandbox: the same symlink on merged-/usr hosts,
 * a read-only bind otherwise; skipped when absent or already in `boundDirs`.
 */
export async function hostRootLinks(boundDirs: readonly string[]): Promise<RootLink[]> {
  const links: RootLink[] = [];
  for (const path of ['/bin', '/lib', '/lib64', '/sbin']) {
    if (boundDirs.includes(path)) continue;
    const s = await lstat(path).catch(() => undefined);
    if (s?.isSymbolicLink()) links.push({ path, symlinkTo: await readlink(path) });
    else if (s?.isDirectory()) links.push({ path, bind: true });
  }
  return links;
}

/** Returns the working bubblewrap's version; throws SANDBOX_UNAVAILABLE, saying how to fix it, otherwise. */
export async function assertSandboxAvailable(
  opts: DetectSandboxOptions = {},
): Promise<Extract<SandboxDetection, { available: true }>> {
  const detection = await detectSandbox(opts);
  if (!detection.available) {
    throw new SandboxError(
      'SANDBOX_UNAVAILABLE',
      `bubblewrap sandbox unavailable (${detection.reason}): install bubblewrap (apt-get install bubblewrap), ` +
        'or pass --insecure-no-sandbox for development only',
    );
  }
  return detection;
}
