import { createHash } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { canonicalJson } from '@secure-build/common';
import type { Descriptor } from '@secure-build/oci';

import { RegistryClient } from './client';
import {
  attachArtifact,
  EMPTY_JSON_DESCRIPTOR,
  findArtifacts,
  MEDIA_TYPE_EMPTY_JSON,
  MEDIA_TYPE_SIGSTORE_BUNDLE,
} from './referrers';
import { createFakeRegistry, type FakeRegistry, type FakeRegistryOptions } from './testing/fake-registry';
import { reply, startTestServer, type TestServer } from './testing/test-server';
import { failure } from './testing/failure';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const IMAGE = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }));
const SUBJECT: Descriptor = { mediaType: OCI_MANIFEST, digest: sha256(IMAGE), size: IMAGE.length };
const TAG = SUBJECT.digest.replace(':', '-');
const BUNDLE_A = Buffer.from('{"bundle":"a"}');
const BUNDLE_B = Buffer.from('{"bundle":"b"}');

let server: TestServer;
let fake: FakeRegistry;
let client: RegistryClient;

beforeAll(async () => {
  server = await startTestServer();
  client = new RegistryClient({ registry: server.host, plainHttp: true, retries: 0 });
});
afterAll(() => server.close());
beforeEach(() => useFake());

function useFake(options: FakeRegistryOptions = {}): void {
  fake = createFakeRegistry({ origin: server.origin, ...options });
  fake.putManifest('org/app', 'v1', IMAGE, OCI_MANIFEST);
  server.handle = fake.handle;
  server.requests.length = 0;
}

const attach = (blob: Buffer, annotations?: Record<string, string>) =>
  attachArtifact(client, 'org/app', {
    subject: SUBJECT,
    artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    blob,
    blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    annotations,
  });

function tagIndex(): { manifests: Descriptor[]; mediaType: string } {
  const stored = fake.manifests.get('org/app')?.get(TAG);
  if (stored === undefined) throw new Error('no tag-schema index');
  expect(stored.mediaType).toBe(OCI_INDEX);
  return JSON.parse(stored.bytes.toString('utf8')) as { manifests: Descriptor[]; mediaType: string };
}

describe('attachArtifact', () => {
  it('pushes blob, empty config and a canonical artifact manifest by digest', async () => {
    const attached = await attach(BUNDLE_A, { 'org.example.kind': 'provenance' });

    expect(fake.blobs.get(EMPTY_JSON_DESCRIPTOR.digest)).toEqual(Buffer.from('{}'));
    expect(EMPTY_JSON_DESCRIPTOR).toEqual({ mediaType: MEDIA_TYPE_EMPTY_JSON, digest: sha256('{}'), size: 2 });
    const expected = canonicalJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      config: EMPTY_JSON_DESCRIPTOR,
      layers: [{ mediaType: MEDIA_TYPE_SIGSTORE_BUNDLE, digest: sha256(BUNDLE_A), size: BUNDLE_A.length }],
      subject: SUBJECT,
      annotations: { 'org.example.kind': 'provenance' },
    });
    expect(fake.manifests.get('org/app')?.get(attached.digest)?.bytes.toString()).toBe(expected);
    expect(attached).toEqual({ digest: sha256(expected), size: expected.length, via: 'tag-schema' });
    // Deterministic: nothing time-dependent is added.
    expect(expected).not.toContain('created');
  });

  it('uses the referrers API when the registry answers with OCI-Subject (no tag written)', async () => {
    useFake({ referrersApi: true });
    const attached = await attach(BUNDLE_A);
    expect(attached.via).toBe('referrers-api');
    expect(fake.manifests.get('org/app')?.has(TAG)).toBe(false);
    expect((await client.referrers('org/app', SUBJECT.digest)).map((d) => d.digest)).toEqual([attached.digest]);
    expect(server.requests.some((r) => r.path.endsWith(`/manifests/${TAG}`))).toBe(false);
  });

  it('maintains the tag-schema index without the referrers API: append, dedupe, keep annotations', async () => {
    const a = await attach(BUNDLE_A, { note: 'first' });
    const b = await attach(BUNDLE_B);
    await attach(BUNDLE_A, { note: 'first' });

    expect(tagIndex()).toEqual({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: a.digest,
          size: a.size,
          artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
          annotations: { note: 'first' },
        },
        { mediaType: OCI_MANIFEST, digest: b.digest, size: b.size, artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE },
      ],
    });
    expect(server.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(TAG))).toHaveLength(2);
    expect((await client.referrers('org/app', SUBJECT.digest)).map((d) => d.digest)).toEqual([a.digest, b.digest]);
  });

  it('refuses to overwrite a tag-schema tag that is not an index (REFERRERS_INDEX_INVALID)', async () => {
    fake.putManifest('org/app', TAG, IMAGE, OCI_MANIFEST);
    const error = await failure(attach(BUNDLE_A));
    expect(error.code).toBe('REFERRERS_INDEX_INVALID');
    expect(error.message).toContain(`${TAG} is ${OCI_MANIFEST}`);
    expect((await failure(client.referrers('org/app', SUBJECT.digest))).code).toBe('REFERRERS_INDEX_INVALID');
  });

  it('refuses a malformed tag-schema index', async () => {
    fake.putManifest('org/app', TAG, Buffer.from('{"schemaVersion":2,"manifests":[{"digest":"nope"}]}'), OCI_INDEX);
    expect((await failure(attach(BUNDLE_A))).code).toBe('REFERRERS_INDEX_INVALID');
  });

  it('refuses an OCI-Subject that names another subject', async () => {
    server.handle = (req, res) =>
      req.method === 'PUT' && req.path.includes('/manifests/')
        ? reply(res, 201, { 'oci-subject': sha256('other') })
        : fake.handle(req, res);
    expect((await failure(attach(BUNDLE_A))).code).toBe('REGISTRY_PROTOCOL');
  });
});

describe('RegistryClient.referrers', () => {
  it('returns [] when neither the API nor the tag exists', async () => {
    expect(await client.referrers('org/app', SUBJECT.digest)).toEqual([]);
    expect(server.requests.map((r) => r.path)).toEqual([
      `/v2/org/app/referrers/${SUBJECT.digest}`,
      `/v2/org/app/manifests/${TAG}`,
    ]);
  });

  it('filters by artifactType client-side even when the API ignores the filter', async () => {
    const entries = [
      { mediaType: OCI_MANIFEST, digest: sha256('1'), size: 1, artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE },
      { mediaType: OCI_MANIFEST, digest: sha256('2'), size: 2, artifactType: 'application/other' },
    ];
    server.handle = (_req, res) =>
      reply(res, 200, { 'content-type': OCI_INDEX }, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries });
    expect(await client.referrers('org/app', SUBJECT.digest, MEDIA_TYPE_SIGSTORE_BUNDLE)).toEqual([entries[0]]);
    expect(server.requests[0].query.get('artifactType')).toBe(MEDIA_TYPE_SIGSTORE_BUNDLE);
  });

  it('refuses a malformed referrers API answer', async () => {
    server.handle = (_req, res) => reply(res, 200, {}, { schemaVersion: 2, manifests: [{ mediaType: 'x', size: -1 }] });
    expect((await failure(client.referrers('org/app', SUBJECT.digest))).code).toBe('REFERRERS_INDEX_INVALID');
    server.handle = (_req, res) => reply(res, 200, {}, 'not json');
    expect((await failure(client.referrers('org/app', SUBJECT.digest))).code).toBe('REFERRERS_INDEX_INVALID');
  });
});

describe('findArtifacts', () => {
  /** Adds a raw referrer manifest to the tag-schema index. */
  function addReferrer(manifest: object, artifactType = MEDIA_TYPE_SIGSTORE_BUNDLE): Descriptor {
    const bytes = Buffer.from(canonicalJson(manifest));
    const digest = fake.putManifest('org/app', sha256(bytes), bytes, OCI_MANIFEST);
    const entry = { mediaType: OCI_MANIFEST, digest, size: bytes.length, artifactType };
    const existing = fake.manifests.get('org/app')?.get(TAG);
    const index = existing
      ? (JSON.parse(existing.bytes.toString()) as { manifests: Descriptor[] })
      : { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] as Descriptor[] };
    index.manifests.push(entry);
    fake.putManifest('org/app', TAG, Buffer.from(JSON.stringify(index)), OCI_INDEX);
    return entry;
  }

  const artifact = (subject: Descriptor, layer: Buffer, artifactType = MEDIA_TYPE_SIGSTORE_BUNDLE) => {
    const digest = fake.putBlob('org/app', layer);
    return {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: EMPTY_JSON_DESCRIPTOR,
      layers: [{ mediaType: MEDIA_TYPE_SIGSTORE_BUNDLE, digest, size: layer.length }],
      subject,
    };
  };

  it('returns verified artifacts and skips (and reports) referrers of another subject or type', async () => {
    const good = await attach(BUNDLE_A);
    const otherSubject = { ...SUBJECT, digest: sha256('another image') };
    const foreign = addReferrer(artifact(otherSubject, BUNDLE_B));
    const wrongType = addReferrer(artifact(SUBJECT, BUNDLE_B, 'application/other'));
    const missing = {
      mediaType: OCI_MANIFEST,
      digest: sha256('gone'),
      size: 4,
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    };
    const index = tagIndex();
    index.manifests.push(missing);
    fake.putManifest('org/app', TAG, Buffer.from(JSON.stringify(index)), OCI_INDEX);

    const skipped: [string, string][] = [];
    const logs: string[] = [];
    const logging = new RegistryClient({
      registry: server.host,
      plainHttp: true,
      retries: 0,
      onLog: (l) => logs.push(l),
    });
    const found = await findArtifacts(logging, 'org/app', SUBJECT.digest, MEDIA_TYPE_SIGSTORE_BUNDLE, {
      onSkip: (d, reason) => skipped.push([d.digest, reason]),
    });

    expect(found.map((f) => [f.descriptor.digest, f.blob.toString()])).toEqual([[good.digest, '{"bundle":"a"}']]);
    expect(found[0].manifest.subject).toEqual(SUBJECT);
    expect(skipped).toEqual([
      [foreign.digest, `its subject is ${otherSubject.digest}, not ${SUBJECT.digest}`],
      [wrongType.digest, `artifact type application/other is not ${MEDIA_TYPE_SIGSTORE_BUNDLE}`],
      [missing.digest, 'manifest not found'],
    ]);
    expect(logs.filter((l) => l.startsWith('skipping referrer'))).toHaveLength(3);
  });

  it('throws DIGEST_MISMATCH when the registry serves other bytes for a referrer or its blob', async () => {
    const good = await attach(BUNDLE_A);
    server.handle = (req, res) =>
      req.path.endsWith(`/blobs/${sha256(BUNDLE_A)}`)
        ? reply(res, 200, {}, Buffer.from('{"bundle":"x"}'))
        : fake.handle(req, res);
    expect((await failure(findArtifacts(client, 'org/app', SUBJECT.digest, MEDIA_TYPE_SIGSTORE_BUNDLE))).code).toBe(
      'DIGEST_MISMATCH',
    );
    server.handle = (req, res) =>
      req.path.endsWith(`/manifests/${good.digest}`)
        ? reply(res, 200, { 'content-type': OCI_MANIFEST }, IMAGE)
        : fake.handle(req, res);
    expect((await failure(findArtifacts(client, 'org/app', SUBJECT.digest, MEDIA_TYPE_SIGSTORE_BUNDLE))).code).toBe(
      'DIGEST_MISMATCH',
    );
  });
});
