import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { canonicalJson } from '@secure-build/common';
import { afterAll, describe, expect, it } from 'vitest';
import { writeImageLayout } from './image-layout';
import { readImageLayout } from './layout-reader';
import type { ImageConfig, ImageIndex, ImageManifest } from './types';

const SDE = 1700000000;
const temps: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-image-'));
  temps.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

const FILES = ['package.json', 'dist/main.js', 'dist/lib/util.js', 'node_modules/x/index.js'];

async function makeApp(options: { reverse: boolean; mode: number; mtime: number }): Promise<string> {
  const root = await tempDir();
  const names = options.reverse ? [...FILES].reverse() : FILES;
  for (const name of names) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), `// ${name}\n`);
    await chmod(join(root, name), options.mode);
    await utimes(join(root, name), options.mtime, options.mtime);
  }
  return root;
}

async function readJson<T>(path: string): Promise<{ bytes: Buffer; value: T }> {
  const bytes = await readFile(path);
  return { bytes, value: JSON.parse(bytes.toString('utf8')) as T };
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const imageConfig = {
  architecture: 'amd64',
  os: 'linux',
  entrypoint: ['node'],
  cmd: ['dist/main.js'],
  env: { NODE_ENV: 'production', A: '1' },
  workingDir: '/app',
  user: '1000:1000',
  labels: { 'org.opencontainers.image.revision': 'abc123' },
};

describe('writeImageLayout', () => {
  it('produces the same manifest digest from trees differing only in mtimes, order and modes', async () => {
    const appA = await makeApp({ reverse: false, mode: 0o600, mtime: 1000000000 });
    const appB = await makeApp({ reverse: true, mode: 0o644, mtime: 1650000000 });
    const outA = await tempDir();
    const outB = await tempDir();
    const common = { sourceDateEpoch: SDE, config: imageConfig, refName: 'app:1.0' };

    const a = await writeImageLayout({ ...common, outDir: outA, layers: [{ from: appA, to: '/app' }] });
    const b = await writeImageLayout({ ...common, outDir: outB, layers: [{ from: appB, to: '/app' }] });

    expect(b.manifestDigest).toBe(a.manifestDigest);
    expect(b.configDigest).toBe(a.configDigest);
    expect(b.layers[0].digest).toBe(a.layers[0].digest);
    expect(b.diffIds).toEqual(a.diffIds);
    expect(await readFile(join(outB, 'index.json'))).toEqual(await readFile(join(outA, 'index.json')));
    expect(a.compressor).toEqual({ name: 'node-zlib', version: process.versions.zlib, level: 6 });
  });

  it('writes a valid layout: oci-layout, index → manifest → config chain, content-addressed blobs', async () => {
    const app = await makeApp({ reverse: false, mode: 0o644, mtime: 1000000000 });
    const outDir = await tempDir();
    const result = await writeImageLayout({
      outDir,
      layers: [{ from: app, to: '/app' }],
      sourceDateEpoch: SDE,
      config: imageConfig,
      annotations: { 'org.opencontainers.image.source': 'https://example.com/app.git' },
      refName: 'latest',
    });

    expect((await readFile(join(outDir, 'oci-layout'))).toString()).toBe('{"imageLayoutVersion":"1.0.0"}');
    const index = await readJson<ImageIndex>(join(outDir, 'index.json'));
    expect(index.bytes.toString()).toBe(canonicalJson(index.value));
    expect(index.value).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: result.manifestDigest,
          size: result.manifestSize,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    });

    const blob = (digest: string): string => join(outDir, 'blobs', 'sha256', digest.slice(7));
    const manifest = await readJson<ImageManifest>(blob(result.manifestDigest));
    expect(sha256(manifest.bytes)).toBe(result.manifestDigest);
    expect(manifest.bytes.length).toBe(result.manifestSize);
    expect(manifest.bytes.toString()).toBe(canonicalJson(manifest.value));
    expect(manifest.value).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: result.configDigest,
        size: expect.any(Number),
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: result.layers[0].digest,
          size: result.layers[0].size,
        },
      ],
      annotations: { 'org.opencontainers.image.source': 'https://example.com/app.git' },
    });

    const config = await readJson<ImageConfig>(blob(result.configDigest));
    expect(sha256(config.bytes)).toBe(result.configDigest);
    expect(config.bytes.length).toBe(manifest.value.config.size);
    expect(config.value).toEqual({
      created: '2023-11-14T22:13:20Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: ['node'],
        Cmd: ['dist/main.js'],
        Env: ['A=1', 'NODE_ENV=production'],
        WorkingDir: '/app',
        User: '1000:1000',
        Labels: { 'org.opencontainers.image.revision': 'abc123' },
      },
      rootfs: { type: 'layers', diff_ids: [result.layers[0].diffId] },
      history: [{ created: '2023-11-14T22:13:20Z', created_by: 'securebuild layer' }],
    });
    expect(config.bytes.toString()).toBe(canonicalJson(config.value));

    const names = await readdir(join(outDir, 'blobs', 'sha256'));
    expect(names).toHaveLength(3);
    for (const name of names) {
      expect(sha256(await readFile(join(outDir, 'blobs', 'sha256', name)))).toBe(`sha256:${name}`);
    }
    expect((await readdir(join(outDir, 'blobs'))).filter((name) => name !== 'sha256')).toEqual([]);
    expect((await readdir(outDir)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('puts base layers already in the layout before its own layer and inherits the base config', async () => {
    const baseTree = await makeApp({ reverse: false, mode: 0o644, mtime: 1000000000 });
    const baseDir = await tempDir();
    const base = await writeImageLayout({
      outDir: baseDir,
      layers: [{ from: baseTree, to: '/usr/lib/base' }],
      sourceDateEpoch: 1600000000,
      config: { architecture: 'arm64', env: { PATH: '/usr/bin' }, cmd: ['sh'] },
    });
    const baseImage = await readImageLayout(baseDir);

    const outDir = await tempDir();
    await mkdir(join(outDir, 'blobs', 'sha256'), { recursive: true });
    const baseLayer = baseImage.layers[0];
    await copyFile(
      join(baseDir, 'blobs', 'sha256', baseLayer.digest.slice(7)),
      join(outDir, 'blobs', 'sha256', baseLayer.digest.slice(7)),
    );
    const app = await makeApp({ reverse: true, mode: 0o600, mtime: 1000000000 });
    const result = await writeImageLayout({
      outDir,
      layers: [{ from: app, to: '/app' }],
      sourceDateEpoch: SDE,
      config: { env: { NODE_ENV: 'production' } },
      baseLayers: baseImage.layers,
      baseConfig: baseImage.config,
    });

    expect(result.diffIds).toEqual([base.diffIds[0], result.layers[0].diffId]);
    const image = await readImageLayout(outDir);
    expect(image.manifest.layers.map((layer) => layer.digest)).toEqual([baseLayer.digest, result.layers[0].digest]);
    expect(image.config.architecture).toBe('arm64');
    expect(image.config.config?.Env).toEqual(['NODE_ENV=production', 'PATH=/usr/bin']);
    expect(image.config.config?.Cmd).toEqual(['sh']);
    expect(image.config.history).toHaveLength(2);
  });

  it('refuses base layers whose blobs are not in the layout', async () => {
    const app = await makeApp({ reverse: false, mode: 0o644, mtime: 1000000000 });
    const outDir = await tempDir();
    const missing = {
      digest: `sha256:${'a'.repeat(64)}`,
      diffId: `sha256:${'b'.repeat(64)}`,
      size: 10,
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    };
    await expect(
      writeImageLayout({
        outDir,
        layers: [{ from: app, to: '/app' }],
        sourceDateEpoch: SDE,
        config: {},
        baseLayers: [missing],
      }),
    ).rejects.toMatchObject({ code: 'BLOB_MISSING', message: expect.stringContaining('a'.repeat(64)) });
  });

  it('refuses an invalid ref name', async () => {
    const app = await makeApp({ reverse: false, mode: 0o644, mtime: 1000000000 });
    await expect(
      writeImageLayout({
        outDir: await tempDir(),
        layers: [{ from: app, to: '/app' }],
        sourceDateEpoch: SDE,
        config: {},
        refName: 'bad ref',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
