import { posix } from 'node:path';

/** HOME inside the sandbox: a private, size-limited tmpfs. */
export const SANDBOX_HOME = '/home/build';
/** TMPDIR inside the sandbox: a private, size-limited tmpfs. */
export const SANDBOX_TMP = '/tmp';
/** Build uid inside the sandbox. */
export const SANDBOX_UID = 1000;
/** Build gid inside the sandbox. */
export const SANDBOX_GID = 1000;
/** Paths the sandbox itself populates; the source mount and toolchain binds may not overlap them. */
export const RESERVED_SANDBOX_PATHS = [
  '/bin',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib64',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
];

/** How one host top-level directory such as /bin appears in the sandbox. */
export type RootLink = { path: string; symlinkTo: string } | { path: string; bind: true };

/** Everything {@link bubblewrapArgs} needs; all paths already validated. */
export interface BubblewrapPlan {
  env: Record<string, string>;
  /** Host directories bound read-only at the same path. */
  toolchainDirs: string[];
  /** /bin, /lib, /lib64, /sbin as symlinks (merged /usr) or read-only binds. */
  rootLinks: RootLink[];
  /** Host files bound read-only into /etc (generated passwd, group, … and ld.so.cache). */
  etcFiles: { source: string; dest: string }[];
  /** Host path of the writable build tree and where it appears inside. */
  treeDir: string;
  mountPath: string;
  tmpSizeBytes: number;
  command: string[];
}

/**
 * bubblewrap argv (build-and-oci.md §8): every namespace unshared (no network at all), no nested
 * user namespaces, a new session, cleared environment, read-only toolchain and /etc files, private
 * size-limited tmpfs for /tmp and HOME, the build tree read-write at mountPath, a read-only root,
 * no capabilities, uid/gid 1000 and hostname `sandbox`.
 */
export function bubblewrapArgs(plan: BubblewrapPlan): string[] {
  const args = ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session'];
  args.push('--clearenv');
  for (const [name, value] of Object.entries(plan.env)) args.push('--setenv', name, value);
  for (const dir of plan.toolchainDirs) args.push('--ro-bind', dir, dir);
  for (const link of plan.rootLinks) {
    if ('symlinkTo' in link) args.push('--symlink', link.symlinkTo, link.path);
    else args.push('--ro-bind', link.path, link.path);
  }
  args.push('--dir', '/etc');
  for (const file of plan.etcFiles) args.push('--ro-bind', file.source, file.dest);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(plan.tmpSizeBytes), '--tmpfs', SANDBOX_TMP);
  args.push('--perms', '0700', '--size', String(plan.tmpSizeBytes), '--tmpfs', SANDBOX_HOME);
  args.push('--bind', plan.treeDir, plan.mountPath);
  args.push('--remount-ro', '/');
  args.push('--hostname', 'sandbox', '--chdir', plan.mountPath, '--cap-drop', 'ALL');
  args.push('--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID));
  args.push('--', ...plan.command);
  return args;
}

/** True when `path` equals `dir` or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** Normalized absolute path made only of portable characters, or undefined. */
export function cleanAbsolutePath(path: string): string | undefined {
  if (!/^(\/[A-Za-z0-9._+@-]+)+$/.test(path)) return undefined;
  if (path.split('/').some((s) => s === '.' || s === '..')) return undefined;
  return posix.normalize(path);
}
