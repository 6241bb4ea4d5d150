import { createHash } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { MAX_MANIFEST_BYTES, RegistryClient } from './client';
import { registryErrors, reply, startTestServer, type TestServer } from './testing/test-server';
import { failure } from './testing/failure';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = Buffer.from(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","layers":[]}`);
const OTHER = Buffer.from(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","layers":[{}]}`);
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const DIGEST = sha256(MANIFEST);

let server: TestServer;
let sut: RegistryClient;

beforeAll(async () => {
  server = await startTestServer();
  sut = new RegistryClient({ registry: server.host, plainHttp: true, retries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

describe('RegistryClient.getManifest', () => {
  it('returns bytes, media type and digest, sending the default Accept list', async () => {
    server.handle = (_req, res) =>
      reply(res, 200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': DIGEST }, MANIFEST);
    expect(await sut.getManifest('org/app', DIGEST)).toEqual({
      bytes: MANIFEST,
      mediaType: OCI_MANIFEST,
      digest: DIGEST,
    });
    expect(String(server.requests[0].headers.accept).split(', ')).toEqual([
      OCI_MANIFEST,
      OCI_INDEX,
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
    ]);
  });

  it('returns undefined on 404 MANIFEST_UNKNOWN', async () => {
    server.handle = (_req, res) => reply(res, 404, {}, registryErrors('MANIFEST_UNKNOWN', 'manifest unknown'));
    expect(await sut.getManifest('org/app', 'v1')).toBeUndefined();
  });

  it('refuses content that does not hash to the digest reference (DIGEST_MISMATCH)', async () => {
    server.handle = (_req, res) => reply(res, 200, { 'content-type': OCI_MANIFEST }, OTHER);
    const error = await failure(sut.getManifest('org/app', DIGEST));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toContain(`GET ${server.host}/v2/org/app/manifests/${DIGEST}`);
    expect(error.message).toContain(sha256(OTHER));
  });

  it('refuses a Docker-Content-Digest that disagrees with the content of a tag', async () => {
    server.handle = (_req, res) =>
      reply(res, 200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(OTHER) }, MANIFEST);
    expect((await failure(sut.getManifest('org/app', 'v1'))).code).toBe('DIGEST_MISMATCH');
  });

  it('refuses manifests over 4 MiB, by Content-Length and while streaming', async () => {
    const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    server.handle = (_req, res) => reply(res, 200, { 'content-type': OCI_MANIFEST }, big);
    const declared = await failure(sut.getManifest('org/app', 'v1'));
    expect(declared.code).toBe('MANIFEST_INVALID');
    expect(declared.message).toContain('larger than 4194304 bytes');
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST }); // chunked: no Content-Length
      res.write(big.subarray(0, MAX_MANIFEST_BYTES));
      res.end(big.subarray(MAX_MANIFEST_BYTES));
    };
    expect((await failure(sut.getManifest('org/app', 'v1'))).code).toBe('MANIFEST_INVALID');
  });

  it('takes the media type from the body when Content-Type is generic, and refuses disagreement', async () => {
    server.handle = (_req, res) => reply(res, 200, { 'content-type': 'application/json; charset=utf-8' }, MANIFEST);
    expect((await sut.getManifest('org/app', 'v1'))?.mediaType).toBe(OCI_MANIFEST);
    server.handle = (_req, res) => reply(res, 200, { 'content-type': OCI_INDEX }, MANIFEST);
    const error = await failure(sut.getManifest('org/app', 'v1'));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toContain('disagrees');
    server.handle = (_req, res) => reply(res, 200, { 'content-type': 'application/json' }, '{"schemaVersion":2}');
    expect((await failure(sut.getManifest('org/app', 'v1'))).message).toContain('no media type');
  });

  it('maps other statuses to errors naming method, path, status and registry codes', async () => {
    server.handle = (_req, res) => reply(res, 400, {}, registryErrors('NAME_INVALID', 'invalid repository name'));
    const error = await failure(sut.getManifest('org/app', 'v1'));
    expect(error.code).toBe('REFERENCE_INVALID');
    expect(error.message).toBe(
      `GET ${server.host}/v2/org/app/manifests/v1: unexpected status 400 (expected 200 or 404) [NAME_INVALID: invalid repository name]`,
    );
  });
});

describe('RegistryClient.pushManifest', () => {
  it('PUTs the exact bytes with the media type and returns digest and OCI-Subject', async () => {
    const subject = `sha256:${'b'.repeat(64)}`;
    server.handle = (_req, res) => reply(res, 201, { 'docker-content-digest': DIGEST, 'oci-subject': subject });
    expect(await sut.pushManifest('org/app', DIGEST, MANIFEST, OCI_MANIFEST)).toEqual({ digest: DIGEST, subject });
    const [request] = server.requests;
    expect([request.method, request.path, request.headers['content-type']]).toEqual([
      'PUT',
      `/v2/org/app/manifests/${DIGEST}`,
      OCI_MANIFEST,
    ]);
    expect(request.body).toEqual(MANIFEST);
  });

  it('refuses a Docker-Content-Digest that differs from sha256(bytes)', async () => {
    server.handle = (_req, res) => reply(res, 201, { 'docker-content-digest': sha256(OTHER) });
    const error = await failure(sut.pushManifest('org/app', 'v1', MANIFEST, OCI_MANIFEST));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toContain('registry stored');
  });

  it('refuses locally: bytes not matching a digest reference, oversized, bad names', async () => {
    server.handle = (_req, res) => reply(res, 201);
    expect((await failure(sut.pushManifest('org/app', sha256(OTHER), MANIFEST, OCI_MANIFEST))).code).toBe(
      'DIGEST_MISMATCH',
    );
    const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    expect((await failure(sut.pushManifest('org/app', 'v1', big, OCI_MANIFEST))).code).toBe('MANIFEST_INVALID');
    expect((await failure(sut.pushManifest('org/App', 'v1', MANIFEST, OCI_MANIFEST))).code).toBe('REFERENCE_INVALID');
    expect((await failure(sut.pushManifest('org/app', 'a/b', MANIFEST, OCI_MANIFEST))).code).toBe('REFERENCE_INVALID');
    expect((await failure(sut.pushManifest('../x', 'v1', MANIFEST, OCI_MANIFEST))).code).toBe('REFERENCE_INVALID');
    expect((await failure(sut.getManifest('org/app', 'sha256:abc'))).code).toBe('REFERENCE_INVALID');
    expect(server.requests).toHaveLength(0);
  });
});
