import {
  chmod,
  chown,
  constants,
  copyFile,
  lchown,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  symlink,
  utimes,
} from 'node:fs/promises';
import { join } from 'node:path';

import { SandboxError } from './sandbox.error';

/** How {@link copySourceTree} writes the copy. */
export interface CopyTreeOptions {
  /** Owner of every copied entry (the sandbox's host uid/gid); unchanged when omitted. */
  owner?: { uid: number; gid: number };
  /** Modification time given to every entry (unix seconds), so file times never vary between builds. */
  mtime: number;
}

/**
 * Copies `sourceDir` to `destDir` (which must not exist) without any `.git` entry: regular files
 * keep their permission bits (setuid/setgid/sticky dropped), symlinks are recreated verbatim and
 * never followed, directories keep their modes. Anything else (devices, fifos, sockets) is refused.
 */
export async function copySourceTree(sourceDir: string, destDir: string, opts: CopyTreeOptions): Promise<void> {
  const root = await lstat(sourceDir).catch(() => undefined);
  if (root === undefined || !root.isDirectory()) {
    throw new SandboxError('COPY_FAILED', `source directory ${sourceDir} does not exist or is not a directory`);
  }
  try {
    await mkdir(destDir, { mode: 0o700 });
  } catch (err) {
    throw new SandboxError('COPY_FAILED', `cannot create ${destDir}: ${(err as Error).message}`, { cause: err });
  }
  await copyDirectory(sourceDir, destDir, opts);
  await finish(destDir, root.mode, opts, false);
}

async function copyDirectory(from: string, to: string, opts: CopyTreeOptions): Promise<void> {
  const names = (await readdir(from)).sort();
  for (const name of names) {
    if (name === '.git') continue;
    const src = join(from, name);
    const dest = join(to, name);
    const stat = await lstat(src);
    if (stat.isSymbolicLink()) {
      await symlink(await readlink(src), dest);
      await finish(dest, stat.mode, opts, true);
    } else if (stat.isDirectory()) {
      await mkdir(dest, { mode: 0o700 });
      await copyDirectory(src, dest, opts);
      await finish(dest, stat.mode, opts, false);
    } else if (stat.isFile()) {
      await copyFile(src, dest, constants.COPYFILE_EXCL);
      await finish(dest, stat.mode, opts, false);
    } else {
      throw new SandboxError('COPY_FAILED', `refusing to copy special file ${src}`);
    }
  }
}

async function finish(path: string, mode: number, opts: CopyTreeOptions, isLink: boolean): Promise<void> {
  if (isLink) {
    if (opts.owner) await lchown(path, opts.owner.uid, opts.owner.gid);
    await lutimes(path, opts.mtime, opts.mtime);
    return;
  }
  await chmod(path, mode & 0o777);
  if (opts.owner) await chown(path, opts.owner.uid, opts.owner.gid);
  await utimes(path, opts.mtime, opts.mtime);
}
