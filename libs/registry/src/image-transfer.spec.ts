import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { canonicalJson } from '@secure-build/common';
import { writeImageLayout } from '@secure-build/oci';

import { RegistryClient } from './client';
import { pullImage, pushImageLayout } from './image-transfer';
import { createFakeRegistry, type FakeRegistry } from './testing/fake-registry';
import { startTestServer, type TestServer } from './testing/test-server';
import { failure } from './testing/failure';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let server: TestServer;
let fake: FakeRegistry;
let client: RegistryClient;
let root: string;

beforeAll(async () => {
  server = await startTestServer();
  client = new RegistryClient({ registry: server.host, plainHttp: true, retries: 0 });
  root = await mkdtemp(join(tmpdir(), 'registry-transfer-spec-'));
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => {
  fake = createFakeRegistry({ origin: server.origin });
  server.handle = fake.handle;
  server.requests.length = 0;
});

interface ImageSpec {
  arch?: string;
  manifestType?: string;
  configType?: string;
  layerTypes?: string[];
  diffIds?: number;
}

/** Stores an image (random layer bytes, config, manifest) in the fake; returns its parts. */
function storeImage(spec: ImageSpec = {}) {
  const layerTypes = spec.layerTypes ?? [OCI_GZIP, OCI_GZIP];
  const layers = layerTypes.map((mediaType, i) => {
    const bytes = Buffer.from(`layer ${i} of ${spec.arch ?? 'amd64'} ${Math.random()}`);
    return { bytes, descriptor: { mediaType, digest: fake.putBlob('org/app', bytes), size: bytes.length } };
  });
  const diffIds = Array.from({ length: spec.diffIds ?? layers.length }, (_, i) => sha256(`diff ${i}`));
  const config = Buffer.from(
    canonicalJson({ architecture: spec.arch ?? 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const configType = spec.configType ?? (spec.manifestType === DOCKER_MANIFEST ? DOCKER_CONFIG : OCI_CONFIG);
  const configDescriptor = { mediaType: configType, digest: fake.putBlob('org/app', config), size: config.length };
  const mediaType = spec.manifestType ?? OCI_MANIFEST;
  const manifest = Buffer.from(
    canonicalJson({ schemaVersion: 2, mediaType, config: configDescriptor, layers: layers.map((l) => l.descriptor) }),
  );
  const digest = fake.putManifest('org/app', sha256(manifest), manifest, mediaType);
  return { digest, size: manifest.length, mediaType, layers, config, configDescriptor, diffIds };
}

function storeIndex(entries: { digest: string; size: number; mediaType: string; arch: string }[], type = OCI_INDEX) {
  const bytes = Buffer.from(
    canonicalJson({
      schemaVersion: 2,
      mediaType: type,
      manifests: entries.map((e) => ({
        mediaType: e.mediaType,
        digest: e.digest,
        size: e.size,
        platform: { os: 'linux', architecture: e.arch },
      })),
    }),
  );
  return fake.putManifest('org/app', sha256(bytes), bytes, type);
}

const fresh = () => mkdtemp(join(root, 'pull-'));
const blobFile = (dir: string, digest: string) => join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));

describe('pullImage', () => {
  it('pulls a single OCI image: config and layers written and verified, no index.json', async () => {
    const image = storeImage();
    const dir = await fresh();
    const pulled = await pullImage(client, 'org/app', image.digest, dir);

    expect(pulled.manifestDigest).toBe(image.digest);
    expect(pulled.configDigest).toBe(image.configDescriptor.digest);
    expect(pulled.config.rootfs.diff_ids).toEqual(image.diffIds);
    expect(pulled.layers).toEqual(image.layers.map((l, i) => ({ ...l.descriptor, diffId: image.diffIds[i] })));
    expect(await readFile(blobFile(dir, image.configDescriptor.digest))).toEqual(image.config);
    for (const layer of image.layers)
      expect(await readFile(blobFile(dir, layer.descriptor.digest))).toEqual(layer.bytes);
    expect(await readdir(dir)).toEqual(['blobs']);
  });

  it('selects the platform manifest from an index and returns its digest', async () => {
    const amd = storeImage({ arch: 'amd64' });
    const arm = storeImage({ arch: 'arm64' });
    const index = storeIndex([
      { ...amd, arch: 'amd64' },
      { ...arm, arch: 'arm64' },
    ]);
    const pulled = await pullImage(client, 'org/app', index, await fresh(), {
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(pulled.manifestDigest).toBe(arm.digest);
    expect(pulled.config.architecture).toBe('arm64');
    expect(server.requests.some((r) => r.path.endsWith(amd.layers[0].descriptor.digest))).toBe(false);
  });

  it('maps a Docker manifest list and schema 2 image to OCI layer media types', async () => {
    const docker = storeImage({ manifestType: DOCKER_MANIFEST, layerTypes: [DOCKER_GZIP] });
    const list = storeIndex([{ ...docker, arch: 'amd64' }], DOCKER_LIST);
    const pulled = await pullImage(client, 'org/app', list, await fresh(), {
      platform: { os: 'linux', architecture: 'amd64' },
    });
    expect(pulled.manifestDigest).toBe(docker.digest);
    expect(pulled.layers.map((l) => l.mediaType)).toEqual([OCI_GZIP]);
  });

  it('fails with PLATFORM_NOT_FOUND naming what the index offers', async () => {
    const arm = storeImage({ arch: 'arm64' });
    const index = storeIndex([{ ...arm, arch: 'arm64' }]);
    const error = await failure(
      pullImage(client, 'org/app', index, await fresh(), { platform: { os: 'linux', architecture: 's390x' } }),
    );
    expect(error.code).toBe('PLATFORM_NOT_FOUND');
    expect(error.message).toContain('no linux/s390x image (available: linux/arm64)');

    const single = storeImage({ arch: 'arm64' });
    const mismatch = await failure(
      pullImage(client, 'org/app', single.digest, await fresh(), { platform: { os: 'linux', architecture: 'amd64' } }),
    );
    expect(mismatch.code).toBe('PLATFORM_NOT_FOUND');
  });

  it.each([
    ['zstd layers', { layerTypes: ['application/vnd.oci.image.layer.v1.tar+zstd'] }, 'zstd-compressed layers'],
    [
      'non-distributable layers',
      { layerTypes: ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'] },
      'non-distributable',
    ],
    ['Docker foreign layers', { layerTypes: ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'] }, 'foreign'],
    ['unknown layer types', { layerTypes: ['application/octet-stream'] }, 'only tar and tar+gzip'],
    ['a diff_ids count mismatch', { diffIds: 1 }, '1 diff_ids for 2 layers'],
    ['an artifact config', { configType: 'application/vnd.oci.empty.v1+json' }, 'not an image config'],
  ])('refuses %s with MANIFEST_INVALID', async (_name, spec, message) => {
    const image = storeImage(spec);
    const error = await failure(pullImage(client, 'org/app', image.digest, await fresh()));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toContain(message);
  });

  it('refuses Docker schema 1 manifests and nested indexes', async () => {
    const schema1 = Buffer.from('{"schemaVersion":1,"name":"org/app","fsLayers":[]}');
    const d1 = fake.putManifest(
      'org/app',
      sha256(schema1),
      schema1,
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
    );
    expect((await failure(pullImage(client, 'org/app', d1, await fresh()))).message).toContain('schema 1');
    const d2 = fake.putManifest('org/app', 'x', schema1, 'application/json');
    expect((await failure(pullImage(client, 'org/app', d2, await fresh()))).code).toBe('MANIFEST_INVALID');

    const inner = storeIndex([]);
    const outer = storeIndex([{ digest: inner, size: 1, mediaType: OCI_INDEX, arch: 'amd64' }]);
    const error = await failure(
      pullImage(client, 'org/app', outer, await fresh(), { platform: { os: 'linux', architecture: 'amd64' } }),
    );
    expect(error.code).toBe('PLATFORM_NOT_FOUND');
  });

  it('fails with MANIFEST_UNKNOWN for a missing digest and REFERENCE_INVALID for a tag', async () => {
    expect((await failure(pullImage(client, 'org/app', sha256('none'), await fresh()))).code).toBe('MANIFEST_UNKNOWN');
    expect((await failure(pullImage(client, 'org/app', 'latest', await fresh()))).code).toBe('REFERENCE_INVALID');
  });

  it('keeps blobs already present and intact, and replaces corrupt ones', async () => {
    const image = storeImage();
    const dir = await fresh();
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const [good, bad] = image.layers;
    await writeFile(blobFile(dir, good.descriptor.digest), good.bytes);
    await writeFile(blobFile(dir, bad.descriptor.digest), Buffer.alloc(bad.bytes.length));

    await pullImage(client, 'org/app', image.digest, dir);

    const fetchedBlobs = server.requests.filter((r) => r.path.includes('/blobs/')).map((r) => r.path.split('/').pop());
    expect(fetchedBlobs).toEqual([image.configDescriptor.digest, bad.descriptor.digest]);
    expect(await readFile(blobFile(dir, bad.descriptor.digest))).toEqual(bad.bytes);
  });
});

describe('pushImageLayout', () => {
  async function layout(name: string): Promise<Awaited<ReturnType<typeof writeImageLayout>>> {
    const src = join(root, `${name}-src`);
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'hello.txt'), `hello ${name}\n`);
    return writeImageLayout({
      outDir: join(root, `${name}-layout`),
      layers: [{ from: src, to: '/app' }],
      sourceDateEpoch: 1700000000,
      config: { architecture: 'amd64', os: 'linux' },
    });
  }

  it('pushes blobs, then the exact manifest bytes by digest, then by tag', async () => {
    const image = await layout('push');
    const pushed = await pushImageLayout(client, 'org/app', image.layoutDir, { tag: 'v1' });

    expect(pushed).toEqual({
      repository: 'org/app',
      manifestDigest: image.manifestDigest,
      manifestSize: image.manifestSize,
      tag: 'v1',
      blobs: [
        { digest: image.layers[0].digest, outcome: 'uploaded' },
        { digest: image.configDigest, outcome: 'uploaded' },
      ],
    });
    const puts = server.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
    expect(puts.map((r) => r.path)).toEqual([
      `/v2/org/app/manifests/${image.manifestDigest}`,
      '/v2/org/app/manifests/v1',
    ]);
    const manifestBytes = await readFile(blobFile(image.layoutDir, image.manifestDigest));
    expect(puts.map((r) => r.body)).toEqual([manifestBytes, manifestBytes]);
    expect(puts[0].headers['content-type']).toBe(OCI_MANIFEST);

    const again = await pushImageLayout(client, 'org/app', image.layoutDir);
    expect(again.blobs.map((b) => b.outcome)).toEqual(['exists', 'exists']);
    const mounted = await pushImageLayout(client, 'org/copy', image.layoutDir, { mountFrom: 'org/app' });
    expect(mounted.blobs.map((b) => b.outcome)).toEqual(['mounted', 'mounted']);
  });

  it('refuses a bad tag before touching the registry', async () => {
    const image = await layout('badtag');
    expect((await failure(pushImageLayout(client, 'org/app', image.layoutDir, { tag: '-x' }))).code).toBe(
      'REFERENCE_INVALID',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('fails with DIGEST_MISMATCH when a layer blob was tampered with', async () => {
    const image = await layout('tampered');
    const path = blobFile(image.layoutDir, image.layers[0].digest);
    const bytes = await readFile(path);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(path, bytes);
    expect((await failure(pushImageLayout(client, 'org/app', image.layoutDir))).code).toBe('DIGEST_MISMATCH');
    expect(fake.blobs.has(image.layers[0].digest)).toBe(false);
  });
});
