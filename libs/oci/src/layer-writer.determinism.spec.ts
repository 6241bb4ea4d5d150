import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planLayer, tarName } from './layer-plan';
import { writeLayer } from './layer-writer';

// Pins the exact bytes writeLayer produces for a fixed tree, so a change to the writer (buffer sizes,
// chunking, the order of hashing and compressing) cannot silently change layer digests. The tar
// bytes (diffId) depend only on this code; the gzip bytes also depend on the zlib build, so the
// blob digests are pinned for the zlib version they were recorded with.
const SDE = 1700000000;
const PINNED_ZLIB = '1.3.1-e00f703';
const EXPECTED = {
  diffId: 'sha256:083626735865055a053aef416ddf3a9088569654a7163190635274288329f6bc',
  uncompressedSize: 3291648,
  entries: 68,
  files: 49,
  level6: { digest: 'sha256:7e26fd0f14400fafb1329fc3d600398916f75f2ed1e5c530c5d6d12653c4d685', size: 1628682 },
  level1: { digest: 'sha256:b4e0123e3d9e91d0fc5450969627d7aec013f754a011a25e0a69f14c0d39ee2e', size: 1636735 },
  level0: { digest: 'sha256:ec44d2a1f010e3a95c5d0e8a08dd988f1e51860cee8e9f994543ce16d0995917', size: 3292046 },
};

let root = '';
let tree = '';

/** Deterministic bytes: a 32-bit LCG, half of each 4 KiB block random, half repeated text. */
function pseudoRandom(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  const text = Buffer.from('deterministic layer fixture line\n');
  for (let i = 0; i < length; i += 1) {
    if ((i >> 12) % 2 === 0) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      out[i] = x >>> 24;
    } else {
      out[i] = text[i % text.length];
    }
  }
  return out;
}

async function put(path: string, content: Buffer | string, mode = 0o644): Promise<void> {
  const full = join(tree, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, content);
  await chmod(full, mode);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'oci-determinism-'));
  tree = join(root, 'tree');
  for (let i = 0; i < 40; i += 1) {
    const body = `// module ${i}\n${'export const value = 42;\n'.repeat((i * 7) % 50)}`;
    await put(`src/pkg-${i % 5}/file-${i}.ts`, body);
  }
  await put('bin/tool', '#!/bin/sh\nexit 0\n', 0o755);
  await put('data/empty', '');
  await put('data/odd.bin', pseudoRandom(7, 65_537)); // one byte past a 64 KiB read chunk
  await put('data/big.bin', pseudoRandom(11, 3 * 1024 * 1024 + 1234)); // crosses 1 MiB chunks
  await put('data/block.bin', pseudoRandom(13, 512 * 4)); // exact tar-block multiple
  await put(`deep/${'d'.repeat(60)}/${'e'.repeat(60)}/name.txt`, 'ustar prefix split\n');
  await put(`deep/${'x'.repeat(120)}/${'y'.repeat(150)}.txt`, 'pax path\n');
  await put('docs/\u00e9t\u00e9.md', 'non-ascii\n');
  await symlink('../bin/tool', join(tree, 'data/tool-link'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function write(level: number, blobs: string) {
  const result = await writeLayer({
    entries: [
      { from: tree, to: '/opt/app' },
      { from: join(tree, 'bin/tool'), to: '/usr/local/bin/tool' },
    ],
    sourceDateEpoch: SDE,
    blobsDir: join(root, blobs),
    compressionLevel: level,
  });
  const blob = await readFile(join(root, blobs, 'sha256', result.digest.slice('sha256:'.length)));
  return { result, blob };
}

describe('writeLayer determinism', () => {
  it('pins the tar bytes (diffId) and entry counts', async () => {
    const { result } = await write(6, 'blobs-pin');
    expect({
      diffId: result.diffId,
      uncompressedSize: result.uncompressedSize,
      entries: result.entries,
      files: result.files,
    }).toEqual({
      diffId: EXPECTED.diffId,
      uncompressedSize: EXPECTED.uncompressedSize,
      entries: EXPECTED.entries,
      files: EXPECTED.files,
    });
  });

  it.skipIf(process.versions.zlib !== PINNED_ZLIB)('pins the blob digests at levels 6, 1 and 0', async () => {
    for (const level of [6, 1, 0] as const) {
      const { result } = await write(level, `blobs-level-${level}`);
      expect({ level, digest: result.digest, size: result.size }).toEqual({ level, ...EXPECTED[`level${level}`] });
      expect(result.diffId).toBe(EXPECTED.diffId);
    }
  });

  it('writes the blob a one-shot gzip of its tar would give (independent of stream chunking)', async () => {
    for (const level of [6, 9]) {
      const { result, blob } = await write(level, `blobs-oneshot-${level}`);
      expect(sha256(blob)).toBe(result.digest);
      expect(blob.length).toBe(result.size);
      const tar = gunzipSync(blob);
      expect(sha256(tar)).toBe(result.diffId);
      expect(tar.length).toBe(result.uncompressedSize);
      const oneShot = gzipSync(tar, { level });
      oneShot.writeUInt32LE(0, 4); // the header normalization writeLayer applies: MTIME 0, OS Unix
      oneShot[9] = 3;
      expect(sha256(oneShot)).toBe(result.digest);
    }
  });

  it('gives identical bytes on repeated runs', async () => {
    const first = await write(6, 'blobs-repeat-a');
    const second = await write(6, 'blobs-repeat-b');
    expect(second.result).toEqual(first.result);
    expect(second.blob.equals(first.blob)).toBe(true);
  });
});

describe('writeLayer tar encoding', () => {
  // Names around the ustar limits (100-byte name, 155-byte prefix), pax records for non-ASCII and
  // unsplittable names and long link targets, sizes around the 512-byte block.
  const FILES: [string, number][] = [
    ['a'.repeat(100), 0],
    ['b'.repeat(101), 511],
    [`${'c'.repeat(50)}/${'d'.repeat(100)}`, 512],
    [`${'e'.repeat(155)}/${'f'.repeat(10)}`, 513],
    [`${'g'.repeat(156)}/${'h'.repeat(10)}`, 1],
    [`${'i'.repeat(100)}/j`, 65_536], // the directory's tar name is 101 bytes with its slash
    [`${'k'.repeat(99)}/l`, 65_537],
    ['\u00fc.txt', 3],
    ['\u00f6/inner.txt', 4],
  ];
  const LINKS: [string, string][] = [
    ['link-100', 'x'.repeat(100)],
    ['link-101', 'y'.repeat(101)],
    ['link-utf8', 'ziel-\u00e4'],
    [`${'m'.repeat(120)}-link`, 'z'.repeat(120)],
  ];

  /** What tar-stream's pack writes for the same plan and headers: the encoding layers always had. */
  async function referenceTar(from: string): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
    for (const entry of await planLayer([{ from, to: '/' }])) {
      const header = {
        name: tarName(entry),
        type: entry.type,
        mode: entry.mode,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        mtime: new Date(SDE * 1000),
        size: entry.type === 'file' ? entry.size : 0,
        linkname: entry.linkname,
      };
      const content = entry.type === 'file' && entry.hostPath ? await readFile(entry.hostPath) : undefined;
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error | null): void => (error ? reject(error) : resolve());
        if (content) pack.entry(header, content, done);
        else pack.entry(header, done);
      });
    }
    pack.finalize();
    await ended;
    return Buffer.concat(chunks);
  }

  it('writes the bytes tar-stream writes for long, non-ASCII and boundary names and link targets', async () => {
    const from = join(root, 'names');
    for (const [name, size] of FILES) {
      await mkdir(dirname(join(from, name)), { recursive: true });
      await writeFile(join(from, name), pseudoRandom(size + 1, size));
    }
    for (const [name, target] of LINKS) await symlink(target, join(from, name));
    const expected = await referenceTar(from);
    for (const level of [6, 0]) {
      const blobsDir = join(root, `blobs-names-${level}`);
      const result = await writeLayer({
        entries: [{ from, to: '/' }],
        sourceDateEpoch: SDE,
        blobsDir,
        compressionLevel: level,
      });
      const actual = gunzipSync(await readFile(join(blobsDir, 'sha256', result.digest.slice('sha256:'.length))));
      expect(actual.length).toBe(expected.length);
      expect(actual.equals(expected)).toBe(true);
      expect(result.diffId).toBe(sha256(expected));
    }
  });
});
