import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MEDIA_TYPE_IMAGE_MANIFEST, writeImageLayout, type ImageLayoutResult } from '@secure-build/oci';
import {
  attachArtifact,
  findArtifacts,
  MEDIA_TYPE_SIGSTORE_BUNDLE,
  pullImage,
  pushImageLayout,
  RegistryClient,
  RegistryError,
} from '@secure-build/registry';

import { startTestRegistry, type TestRegistry } from './support/registry';
import { Cleanup } from './support/service-fixture';

const SDE = 1700000000;
const FILES: Record<string, string> = {
  'app/main.js': 'console.log("hello from the registry e2e");\n',
  'app/package.json': '{"name":"e2e-app","version":"1.0.0"}\n',
  'app/lib/util.js': 'module.exports = 42;\n',
};
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const cleanup = new Cleanup();
let registry: TestRegistry;
let client: RegistryClient;
let work: string;

/** Writes FILES (plus `extra`) under a fresh dir and builds a one-layer scratch image from it. */
async function buildImage(name: string, extra: Record<string, Buffer | string> = {}): Promise<ImageLayoutResult> {
  const source = join(work, `${name}-src`);
  for (const [path, content] of Object.entries({ ...FILES, ...extra })) {
    mkdirSync(join(source, path, '..'), { recursive: true });
    writeFileSync(join(source, path), content);
  }
  return writeImageLayout({
    outDir: join(work, `${name}-layout`),
    layers: [{ from: join(source, 'app'), to: '/app' }],
    sourceDateEpoch: SDE,
    config: { architecture: 'amd64', os: 'linux', entrypoint: ['node', '/app/main.js'] },
    refName: 'latest',
  });
}

function skopeo(args: string[]): Buffer {
  const policy = join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  return execFileSync('/usr/bin/skopeo', ['--policy', policy, ...args], {
    env: { PATH: '/usr/bin:/bin', HOME: work },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function accessLogCount(method: string, path: string): number {
  return registry
    .output()
    .split('\n')
    .filter((line) => line.includes(`"${method} ${path}`)).length;
}

beforeAll(async () => {
  work = cleanup.tempDir('sb-registry-e2e-');
  registry = await startTestRegistry();
  cleanup.add('stop registry', () => registry.stop());
  client = new RegistryClient({ registry: registry.host, plainHttp: true, chunkSizeBytes: 8 * 1024 * 1024 });
});

afterAll(() => cleanup.run());

describe('RegistryClient against docker-registry 2.8', () => {
  let image: ImageLayoutResult;

  it('pushes an image layout that skopeo and umoci read back byte for byte', async () => {
    image = await buildImage('small');
    const pushed = await pushImageLayout(client, 'e2e/app', image.layoutDir, { tag: 'v1' });

    expect(pushed.manifestDigest).toBe(image.manifestDigest);
    expect(pushed.manifestSize).toBe(image.manifestSize);
    expect(pushed.blobs.map((b) => b.outcome)).toEqual(['uploaded', 'uploaded']);
    const raw = skopeo([
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${registry.host}/e2e/app@${pushed.manifestDigest}`,
    ]);
    expect(sha256(raw)).toBe(image.manifestDigest);
    // The tag was set by the second PUT.
    const byTag = skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/e2e/app:v1`]);
    expect(sha256(byTag)).toBe(image.manifestDigest);

    const ociDir = join(work, 'skopeo-oci');
    skopeo(['copy', '--src-tls-verify=false', `docker://${registry.host}/e2e/app:v1`, `oci:${ociDir}:x`]);
    const bundle = join(work, 'bundle');
    execFileSync('/usr/bin/umoci', ['unpack', '--rootless', '--image', `${ociDir}:x`, bundle], {
      env: { PATH: '/usr/bin:/bin', HOME: work },
    });
    for (const [path, content] of Object.entries(FILES)) {
      expect(readFileSync(join(bundle, 'rootfs', path), 'utf8')).toBe(content);
    }
  });

  it('pulls the image back into a fresh directory, every blob matching', async () => {
    const target = join(work, 'pulled');
    const pulled = await pullImage(client, 'e2e/app', image.manifestDigest, target, {
      platform: { os: 'linux', architecture: 'amd64' },
    });

    expect(pulled.manifestDigest).toBe(image.manifestDigest);
    expect(pulled.configDigest).toBe(image.configDigest);
    expect(pulled.layers.map((l) => l.diffId)).toEqual(image.diffIds);
    const blobsDir = join(image.layoutDir, 'blobs', 'sha256');
    for (const descriptor of [...pulled.layers, pulled.manifest.config]) {
      const hex = descriptor.digest.slice('sha256:'.length);
      expect(readFileSync(join(target, 'blobs', 'sha256', hex))).toEqual(readFileSync(join(blobsDir, hex)));
    }
    // Pulling again keeps the verified blobs; no partial files are left behind.
    await pullImage(client, 'e2e/app', image.manifestDigest, target, {
      platform: { os: 'linux', architecture: 'amd64' },
    });
    expect(readdirSync(join(target, 'blobs', 'sha256')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('uploads a 40 MB layer in 8 MiB PATCH chunks and the digest matches', async () => {
    const big = await buildImage('big', { 'app/blob.bin': randomBytes(40 * 1024 * 1024) });
    const layer = big.layers[0];
    expect(layer.size).toBeGreaterThan(40 * 1024 * 1024);
    const patchesBefore = accessLogCount('PATCH', '/v2/e2e/big/blobs/uploads/');

    const pushed = await pushImageLayout(client, 'e2e/big', big.layoutDir, { tag: 'big' });

    expect(pushed.blobs[0]).toEqual({ digest: layer.digest, outcome: 'uploaded' });
    expect(accessLogCount('PATCH', '/v2/e2e/big/blobs/uploads/') - patchesBefore).toBe(
      Math.ceil(layer.size / (8 * 1024 * 1024)),
    );
    expect(await client.blobExists('e2e/big', layer.digest)).toEqual({ size: layer.size });
    const target = join(work, 'big-pulled');
    mkdirSync(target);
    await client.fetchBlobToFile('e2e/big', layer, join(target, 'layer'));
    expect(sha256(readFileSync(join(target, 'layer')))).toBe(layer.digest);
  });

  it('mounts a blob across repositories and reports an existing blob as such', async () => {
    const layer = image.layers[0];
    expect(await client.mountBlob('e2e/mounted', layer.digest, 'e2e/app')).toBe(true);
    expect(await client.blobExists('e2e/mounted', layer.digest)).toEqual({ size: layer.size });
    // An unknown blob cannot be mounted: the registry opens an upload instead (202).
    const unknown = sha256(Buffer.from('never pushed'));
    expect(await client.mountBlob('e2e/mounted', unknown, 'e2e/app')).toBe(false);

    const open = () => readFileSync(join(image.layoutDir, 'blobs', 'sha256', layer.digest.slice(7)));
    expect(await client.pushBlob('e2e/app', layer, open)).toBe('exists');
    const config = { digest: image.configDigest, size: 0 };
    config.size = readFileSync(join(image.layoutDir, 'blobs', 'sha256', config.digest.slice(7))).length;
    const configOpen = () => readFileSync(join(image.layoutDir, 'blobs', 'sha256', config.digest.slice(7)));
    expect(await client.pushBlob('e2e/other', config, configOpen, { mountFrom: 'e2e/app' })).toBe('mounted');
  });

  it('attaches two artifacts through the tag-schema fallback and finds them again', async () => {
    const subject = { mediaType: MEDIA_TYPE_IMAGE_MANIFEST, digest: image.manifestDigest, size: image.manifestSize };
    const first = Buffer.from(JSON.stringify({ bundle: 1 }));
    const second = Buffer.from(JSON.stringify({ bundle: 2 }));

    const a = await attachArtifact(client, 'e2e/app', {
      subject,
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      blob: first,
      blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
    });
    const b = await attachArtifact(client, 'e2e/app', {
      subject,
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      blob: second,
      blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    });
    // Attaching the same artifact again is idempotent.
    const again = await attachArtifact(client, 'e2e/app', {
      subject,
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      blob: second,
      blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    });

    expect([a.via, b.via]).toEqual(['tag-schema', 'tag-schema']);
    expect(again.digest).toBe(b.digest);
    const listed = await client.referrers('e2e/app', image.manifestDigest);
    expect(listed.map((d) => d.digest)).toEqual([a.digest, b.digest]);
    expect(listed[0].annotations).toEqual({ 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' });
    expect(await client.referrers('e2e/app', image.manifestDigest, 'application/other')).toEqual([]);

    const found = await findArtifacts(client, 'e2e/app', image.manifestDigest, MEDIA_TYPE_SIGSTORE_BUNDLE);
    expect(found.map((f) => f.blob)).toEqual([first, second]);
    expect(found[0].manifest.subject?.digest).toBe(image.manifestDigest);
  });

  it('refuses to treat or overwrite a non-index at the referrers tag (REFERRERS_INDEX_INVALID)', async () => {
    const other = sha256(Buffer.from('some other subject'));
    const bytes = readFileSync(join(image.layoutDir, 'blobs', 'sha256', image.manifestDigest.slice(7)));
    await client.pushManifest('e2e/app', other.replace(':', '-'), bytes, MEDIA_TYPE_IMAGE_MANIFEST);

    await expect(client.referrers('e2e/app', other)).rejects.toMatchObject({ code: 'REFERRERS_INDEX_INVALID' });
    const attach = attachArtifact(client, 'e2e/app', {
      subject: { mediaType: MEDIA_TYPE_IMAGE_MANIFEST, digest: other, size: 10 },
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      blob: Buffer.from('{}'),
      blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    });
    await expect(attach).rejects.toMatchObject({ code: 'REFERRERS_INDEX_INVALID' });
    expect((await client.getManifest('e2e/app', other.replace(':', '-')))?.digest).toBe(image.manifestDigest);
  });
});

describe('RegistryClient against an htpasswd docker-registry', () => {
  const user = { username: 'e2e-user', password: 'e2e-Secret-Password-123' };
  let secured: TestRegistry;
  let image: ImageLayoutResult;

  beforeAll(async () => {
    secured = await startTestRegistry({ htpasswd: user });
    cleanup.add('stop htpasswd registry', () => secured.stop());
    image = await buildImage('auth');
  });

  it('pushes and pulls with the right credentials', async () => {
    const authed = new RegistryClient({ registry: secured.host, plainHttp: true, credentials: user });
    await authed.ping();
    const pushed = await pushImageLayout(authed, 'e2e/private', image.layoutDir, { tag: 'v1' });
    expect(pushed.manifestDigest).toBe(image.manifestDigest);
    const fetched = await authed.getManifest('e2e/private', 'v1');
    expect(fetched?.digest).toBe(image.manifestDigest);
  });

  it.each([
    ['wrong credentials', { username: user.username, password: 'not-the-password-456' }],
    ['no credentials', undefined],
  ])('refuses %s with REGISTRY_AUTH_FAILED and never echoes secrets', async (_name, credentials) => {
    const other = new RegistryClient({ registry: secured.host, plainHttp: true, credentials, retries: 0 });
    const error = await other.getManifest('e2e/private', 'v1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('REGISTRY_AUTH_FAILED');
    const text = `${(error as Error).message} ${JSON.stringify((error as RegistryError).details)}`;
    for (const secret of [user.password, 'not-the-password-456']) expect(text).not.toContain(secret);
    await expect(other.ping()).rejects.toMatchObject({ code: 'REGISTRY_AUTH_FAILED' });
  });
});
