import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImageLayout, type ImageLayoutResult } from './image-layout';
import { listLayerEntries } from './layer-reader';
import { readImageLayout } from './layout-reader';
import { OciError } from './oci-error';

const temps: string[] = [];
let tree = '';
let pristine = '';
let written: ImageLayoutResult;

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-reader-'));
  temps.push(dir);
  return dir;
}

/** A fresh copy of the pristine layout, so each test may corrupt its own. */
async function layoutCopy(): Promise<string> {
  const dir = await tempDir();
  const result = await writeImageLayout({
    outDir: dir,
    layers: [{ from: tree, to: '/app' }],
    sourceDateEpoch: 1700000000,
    config: { architecture: 'amd64' },
    refName: 'v1',
  });
  expect(result.manifestDigest).toBe(written.manifestDigest);
  return dir;
}

function blob(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

async function rejection(promise: Promise<unknown>): Promise<OciError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OciError);
  return error as OciError;
}

beforeAll(async () => {
  tree = await tempDir();
  await mkdir(join(tree, 'bin'));
  await writeFile(join(tree, 'bin/tool'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await writeFile(join(tree, 'data.txt'), 'hello world\n');
  await symlink('bin/tool', join(tree, 'tool'));
  pristine = await tempDir();
  written = await writeImageLayout({
    outDir: pristine,
    layers: [{ from: tree, to: '/app' }],
    sourceDateEpoch: 1700000000,
    config: { architecture: 'amd64' },
    refName: 'v1',
  });
});

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('readImageLayout', () => {
  it('follows index → manifest → config and pairs layers with diff_ids', async () => {
    const image = await readImageLayout(pristine);
    expect(image.manifestDigest).toBe(written.manifestDigest);
    expect(image.configDigest).toBe(written.configDigest);
    expect(image.layers).toEqual([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: written.layers[0].digest,
        size: written.layers[0].size,
        diffId: written.diffIds[0],
      },
    ]);
    expect(image.config.created).toBe('2023-11-14T22:13:20Z');
    expect((await readImageLayout(pristine, { refName: 'v1' })).manifestDigest).toBe(written.manifestDigest);
  });

  it('rejects a layer blob whose content was altered, naming the blob', async () => {
    const dir = await layoutCopy();
    const path = blob(dir, written.layers[0].digest);
    const bytes = await readFile(path);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(path, bytes);

    const error = await rejection(readImageLayout(dir));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toContain(path);
    // Skipping layer verification still reads the metadata chain.
    expect((await readImageLayout(dir, { verifyLayers: false })).manifestDigest).toBe(written.manifestDigest);
  });

  it('rejects a truncated config blob by size before hashing', async () => {
    const dir = await layoutCopy();
    await truncate(blob(dir, written.configDigest), 10);
    const error = await rejection(readImageLayout(dir));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toMatch(/has size 10, descriptor says/);
  });

  it('rejects a missing manifest blob', async () => {
    const dir = await layoutCopy();
    await rm(blob(dir, written.manifestDigest));
    expect((await rejection(readImageLayout(dir))).code).toBe('BLOB_MISSING');
  });

  it('rejects malformed layout metadata', async () => {
    const dir = await layoutCopy();
    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"sha256:../../etc"}]}');
    expect((await rejection(readImageLayout(dir))).code).toBe('LAYOUT_INVALID');
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    expect((await rejection(readImageLayout(dir))).message).toMatch(/imageLayoutVersion/);
    expect((await rejection(readImageLayout(join(dir, 'nope')))).code).toBe('LAYOUT_INVALID');
  });

  it('rejects an unknown ref name', async () => {
    expect((await rejection(readImageLayout(pristine, { refName: 'v2' }))).message).toMatch(/no manifest tagged "v2"/);
  });
});

describe('listLayerEntries', () => {
  it('lists entries in archive order with normalized metadata and file hashes', async () => {
    const entries = await listLayerEntries(pristine, written.layers[0].digest);
    const common = { uid: 0, gid: 0, uname: '', gname: '', mtime: 1700000000 };
    const hash = (text: string): string => createHash('sha256').update(text).digest('hex');
    expect(entries).toEqual([
      { ...common, path: '/app', type: 'directory', mode: 0o755, size: 0 },
      { ...common, path: '/app/bin', type: 'directory', mode: 0o755, size: 0 },
      { ...common, path: '/app/bin/tool', type: 'file', mode: 0o755, size: 17, sha256: hash('#!/bin/sh\nexit 0\n') },
      { ...common, path: '/app/data.txt', type: 'file', mode: 0o644, size: 12, sha256: hash('hello world\n') },
      { ...common, path: '/app/tool', type: 'symlink', mode: 0o777, size: 0, linkname: 'bin/tool' },
    ]);
  });

  it('rejects a blob that is not a tar, with a clear error', async () => {
    const dir = await layoutCopy();
    const junk = Buffer.from('this is not a tar archive at all, just text'.repeat(20));
    const digest = `sha256:${createHash('sha256').update(junk).digest('hex')}`;
    await writeFile(blob(dir, digest), junk);
    const error = await rejection(listLayerEntries(dir, digest));
    expect(error.code).toBe('LAYOUT_INVALID');
    expect(error.message).toMatch(/is not a readable tar/);
  });

  it('rejects a layer whose bytes do not match the digest', async () => {
    const dir = await layoutCopy();
    const path = blob(dir, written.layers[0].digest);
    const bytes = await readFile(path);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(path, bytes);
    const error = await rejection(listLayerEntries(dir, written.layers[0].digest));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toContain(path);
  });
});
