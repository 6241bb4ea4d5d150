import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

import { SandboxError } from './sandbox.error';

/** Host credentials bubblewrap runs with; the build's uid 1000 maps to this uid on the host. */
export interface HostUser {
  uid: number;
  gid: number;
}

/** Host uid/gid used when the worker runs as root and no other is configured. */
export const DEFAULT_HOST_USER: HostUser = { uid: 1000, gid: 1000 };

/**
 * The unprivileged host user to run bubblewrap as. As root, bwrap would map the build's uid to
 * host root: files the build writes would be root-owned and RLIMIT_NPROC would not apply. So a
 * root worker drops to `hostUser` (default 1000:1000); a non-root worker runs bwrap as itself.
 */
export function resolveHostUser(hostUser: HostUser | undefined): HostUser | undefined {
  const uid = process.getuid?.();
  if (uid !== 0) {
    if (hostUser !== undefined && hostUser.uid !== uid) {
      throw new SandboxError('INVALID_OPTIONS', 'hostUser can only be chosen when the worker runs as root');
    }
    return undefined;
  }
  const user = hostUser ?? DEFAULT_HOST_USER;
  if (!Number.isSafeInteger(user.uid) || !Number.isSafeInteger(user.gid) || user.uid <= 0 || user.gid <= 0) {
    throw new SandboxError('INVALID_OPTIONS', 'hostUser must be an unprivileged uid/gid (not root)');
  }
  return user;
}

/**
 * Throws INVALID_OPTIONS unless `user` can search every directory from / down to `dir`, which
 * bubblewrap needs to bind the build tree and the generated /etc files.
 */
export async function assertTraversable(dir: string, user: HostUser | undefined): Promise<void> {
  if (user === undefined) return;
  for (let current = dir; ; current = dirname(current)) {
    const s = await stat(current);
    const ok = s.mode & 0o001 || (s.uid === user.uid && s.mode & 0o100) || (s.gid === user.gid && s.mode & 0o010);
    if (!ok) {
      throw new SandboxError(
        'INVALID_OPTIONS',
        `the sandbox runs as host uid ${user.uid}, which cannot search ${current}: make every directory above ` +
          `workDir searchable by others (e.g. chmod 0711 ${current}) or choose another workDir`,
      );
    }
    if (current === dirname(current)) return;
  }
}
