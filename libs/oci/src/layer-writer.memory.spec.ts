import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLayer } from './layer-writer';

// Garbage chunks stay in `arrayBuffers` until V8 collects them (tens of MB of lag), which would
// hide what the pipeline actually retains. Forcing a full GC before each sample measures live memory.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
let root = '';

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('writeLayer memory', () => {
  it('streams a 30 MB file: live memory stays a small fraction of the file size', async () => {
    root = await mkdtemp(join(tmpdir(), 'oci-memory-'));
    const path = join(root, 'big.bin');
    const chunk = Buffer.alloc(MiB);
    for (let i = 0; i < 30; i += 1) {
      for (let j = 0; j < chunk.length; j += 4) chunk.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
      await writeFile(path, chunk, { flag: 'a' });
    }
    gc();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakBuffers = before.arrayBuffers;
    let samples = 0;
    const sampler = setInterval(() => {
      gc();
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
      samples += 1;
    }, 100);
    try {
      const result = await writeLayer({
        entries: [{ from: path, to: '/data/big.bin' }],
        sourceDateEpoch: 1700000000,
        blobsDir: join(root, 'blobs'),
        compressionLevel: 1,
      });
      expect(result.uncompressedSize).toBeGreaterThan(30 * MiB);
      expect(result.size).toBeGreaterThan(0);
    } finally {
      clearInterval(sampler);
    }
    expect(samples).toBeGreaterThan(3);
    expect(peakBuffers - before.arrayBuffers).toBeLessThan(6 * MiB);
    expect(peakRss - before.rss).toBeLessThan(10 * MiB);
  });
});
