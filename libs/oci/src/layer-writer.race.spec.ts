import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PlannedEntry } from './layer-plan';
import { writeLayer } from './layer-writer';

// Simulates a tree that changes between the walk and the read: the plan is stale on purpose.
const stalePlan = vi.hoisted(() => ({ entries: [] as PlannedEntry[] }));
vi.mock('./layer-plan', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./layer-plan')>()),
  planLayer: async () => stalePlan.entries,
}));

// Simulates a file truncated after its size was checked: reads hit EOF early while `truncated` is set.
const reads = vi.hoisted(() => ({ truncated: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readSync = (...args: Parameters<typeof fs.readSync>): number => (reads.truncated ? 0 : fs.readSync(...args));
  return { ...fs, default: { ...fs, readSync }, readSync };
});

let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'oci-race-'));
  await writeFile(join(root, 'file.txt'), 'abc');
  await symlink('/etc/hostname', join(root, 'swapped'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeLayer with a tree that changes while packing', () => {
  it('refuses a file whose size changed since the walk and removes the temporary blob', async () => {
    stalePlan.entries = [{ path: 'file.txt', type: 'file', mode: 0o644, hostPath: join(root, 'file.txt'), size: 10 }];
    const blobsDir = join(root, 'blobs-size');
    await expect(writeLayer({ entries: [], sourceDateEpoch: 1, blobsDir })).rejects.toMatchObject({
      code: 'SOURCE_CHANGED',
      message: expect.stringContaining(join(root, 'file.txt')),
    });
    expect((await readdir(blobsDir)).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  });

  it('refuses to follow a file that was replaced by a symlink', async () => {
    stalePlan.entries = [{ path: 'swapped', type: 'file', mode: 0o644, hostPath: join(root, 'swapped'), size: 3 }];
    await expect(
      writeLayer({ entries: [], sourceDateEpoch: 1, blobsDir: join(root, 'blobs-link') }),
    ).rejects.toMatchObject({
      code: 'SOURCE_CHANGED',
      message: expect.stringMatching(/cannot be opened as a regular file/),
    });
  });

  it('refuses a file that was replaced by a fifo without blocking on it', async () => {
    stalePlan.entries = [{ path: 'fifo', type: 'file', mode: 0o644, hostPath: join(root, 'fifo'), size: 3 }];
    await expect(
      writeLayer({ entries: [], sourceDateEpoch: 1, blobsDir: join(root, 'blobs-fifo') }),
    ).rejects.toMatchObject({ code: 'SOURCE_CHANGED', message: expect.stringMatching(/changed while packing/) });
  });

  it('refuses a file that shrank while it was read and removes the temporary blob', async () => {
    stalePlan.entries = [{ path: 'file.txt', type: 'file', mode: 0o644, hostPath: join(root, 'file.txt'), size: 3 }];
    const blobsDir = join(root, 'blobs-shrink');
    reads.truncated = true;
    try {
      await expect(writeLayer({ entries: [], sourceDateEpoch: 1, blobsDir })).rejects.toMatchObject({
        code: 'SOURCE_CHANGED',
        message: expect.stringMatching(/shrank while packing \(3 → 0 bytes\)/),
      });
    } finally {
      reads.truncated = false;
    }
    expect((await readdir(blobsDir)).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  });
});
