import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Lays out the data directory. The root and work/ are traversable (0711) because sandboxed builds
 * run as an unprivileged uid below work/; the store and build outputs stay private (0700).
 */
export async function prepareDataDir(dataDir: string): Promise<void> {
  for (const [dir, mode] of [
    [dataDir, 0o711],
    [join(dataDir, 'work'), 0o711],
    [join(dataDir, 'pglite'), 0o700],
    [join(dataDir, 'builds'), 0o700],
  ] as const) {
    await mkdir(dir, { recursive: true, mode });
    await chmod(dir, mode);
  }
}
