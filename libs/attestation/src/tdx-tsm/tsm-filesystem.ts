import { mkdir, open, rmdir, stat, writeFile } from 'node:fs/promises';

/**
 * The few filesystem operations a configfs-tsm request needs. configfs is not a normal filesystem
 * (mkdir populates attribute files, reading `outblob` runs the quote hypercall), so tests substitute
 * an emulation; production uses `nodeTsmFilesystem`.
 */
export interface TsmFilesystem {
  /** Creates one directory (never recursive); in configfs this creates a report request context. */
  mkdir(path: string): Promise<void>;
  /** Removes one directory (never recursive: configfs removes the attribute files itself). */
  rmdir(path: string): Promise<void>;
  /** Reads a whole file, stopping after `maxBytes + 1` bytes so callers can detect oversize files. */
  readFile(path: string, maxBytes: number): Promise<Buffer>;
  /** Writes `data` as the whole content of an existing attribute file. */
  writeFile(path: string, data: Buffer): Promise<void>;
  /** True when `path` is an existing directory. */
  isDirectory(path: string): Promise<boolean>;
}

/** node:fs implementation. configfs reports size 0 for attributes, so reads loop until EOF. */
export const nodeTsmFilesystem: TsmFilesystem = {
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  async readFile(path, maxBytes) {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(maxBytes + 1);
      let length = 0;
      while (length < buffer.length) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      return buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  },
  writeFile: (path, data) => writeFile(path, data),
  async isDirectory(path) {
    try {
      return (await stat(path)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw error;
    }
  },
};
