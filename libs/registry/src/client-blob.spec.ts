import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { RegistryClient, type RegistryClientOptions } from './client';
import { createFakeRegistry, type FakeRegistry, type FakeRegistryOptions } from './testing/fake-registry';
import { registryErrors, reply, startTestServer, type TestServer } from './testing/test-server';
import { failure } from './testing/failure';

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const CONTENT = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'); // 36 bytes
const BLOB = { digest: sha256(CONTENT), size: CONTENT.length };

let server: TestServer;
let fake: FakeRegistry;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'registry-blob-spec-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => useFake());

function useFake(options: FakeRegistryOptions = {}): void {
  fake = createFakeRegistry({ origin: server.origin, ...options });
  server.handle = fake.handle;
  server.requests.length = 0;
}

function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({ registry: server.host, plainHttp: true, retryBaseDelayMs: 1, ...options });
}

/** The content as a stream of 7-byte pieces, so chunk boundaries never line up. */
function pieces(bytes: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 7) parts.push(bytes.subarray(i, i + 7));
  return Readable.from(parts);
}

const summary = () => server.requests.map((r) => `${r.method} ${r.path}`);

describe('RegistryClient.pushBlob', () => {
  it('uploads monolithically, appending &digest= to a Location that carries ?_state=', async () => {
    expect(await client().pushBlob('org/app', BLOB, () => pieces(CONTENT))).toBe('uploaded');

    expect(fake.blobs.get(BLOB.digest)).toEqual(CONTENT);
    expect(summary().map((s) => s.replace(/uploads\/[0-9a-f-]+$/, 'uploads/<id>'))).toEqual([
      `HEAD /v2/org/app/blobs/${BLOB.digest}`,
      'POST /v2/org/app/blobs/uploads/',
      'PUT /v2/org/app/blobs/uploads/<id>',
    ]);
    const put = server.requests[2];
    expect(put.url).toMatch(/\?_state=[^&]+&digest=sha256%3A[0-9a-f]{64}$/);
    expect(put.query.get('digest')).toBe(BLOB.digest);
    expect(put.headers['content-length']).toBe(String(CONTENT.length));
    expect(put.headers['content-type']).toBe('application/octet-stream');
  });

  it('uses ?digest= for a relative Location without a query', async () => {
    useFake({ locationStyle: 'relative' });
    expect(await client().pushBlob('org/app', BLOB, () => CONTENT)).toBe('uploaded');
    expect(server.requests[2].url).toMatch(
      /^\/v2\/org\/app\/blobs\/uploads\/[0-9a-f-]+\?digest=sha256%3A[0-9a-f]{64}$/,
    );
  });

  it('uploads larger blobs in PATCH chunks with Content-Range, following each Location, then PUTs ?digest=', async () => {
    expect(await client({ chunkSizeBytes: 16 }).pushBlob('org/app', BLOB, () => pieces(CONTENT))).toBe('uploaded');

    expect(fake.blobs.get(BLOB.digest)).toEqual(CONTENT);
    const patches = server.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.headers['content-range'], r.headers['content-length'], r.body.length])).toEqual([
      ['0-15', '16', 16],
      ['16-31', '16', 16],
      ['32-35', '4', 4],
    ]);
    // Each PATCH goes to the Location the previous answer returned (its _state carries the offset).
    const offsets = patches.map(
      (r) => JSON.parse(Buffer.from(r.query.get('_state') ?? '', 'base64').toString()).offset,
    );
    expect(offsets).toEqual([0, 16, 32]);
    const put = server.requests.at(-1);
    expect([put?.method, put?.body.length, put?.query.get('digest')]).toEqual(['PUT', 0, BLOB.digest]);
    expect(JSON.parse(Buffer.from(put?.query.get('_state') ?? '', 'base64').toString()).offset).toBe(36);
  });

  it('returns exists after a HEAD when the blob is there, and refuses a size disagreement', async () => {
    fake.putBlob('org/app', CONTENT);
    expect(await client().pushBlob('org/app', BLOB, () => CONTENT)).toBe('exists');
    expect(summary()).toEqual([`HEAD /v2/org/app/blobs/${BLOB.digest}`]);
    const error = await failure(client().pushBlob('org/app', { ...BLOB, size: 99 }, () => CONTENT));
    expect(error.code).toBe('SIZE_MISMATCH');
  });

  it('mounts from another repository when asked', async () => {
    fake.putBlob('org/base', CONTENT);
    expect(await client().pushBlob('org/app', BLOB, () => CONTENT, { mountFrom: 'org/base' })).toBe('mounted');
    const post = server.requests[1];
    expect(post.query.get('mount')).toBe(BLOB.digest);
    expect(post.query.get('from')).toBe('org/base');
  });

  it('continues with the upload session a refused mount (202) opened', async () => {
    expect(await client().pushBlob('org/app', BLOB, () => CONTENT, { mountFrom: 'org/empty' })).toBe('uploaded');
    expect(summary().map((s) => s.replace(/uploads\/[0-9a-f-]+$/, 'uploads/<id>'))).toEqual([
      `HEAD /v2/org/app/blobs/${BLOB.digest}`,
      'POST /v2/org/app/blobs/uploads/',
      'PUT /v2/org/app/blobs/uploads/<id>',
    ]);
  });

  it.each([
    ['different bytes of the same size', Buffer.from(CONTENT).fill(0x41, 0, 1), 'DIGEST_MISMATCH'],
    ['fewer bytes', CONTENT.subarray(1), 'SIZE_MISMATCH'],
    ['more bytes', Buffer.concat([CONTENT, Buffer.from('x')]), 'SIZE_MISMATCH'],
  ])('refuses local content with %s; the registry never stores it', async (_name, bytes, code) => {
    for (const chunkSizeBytes of [1024, 16]) {
      useFake();
      const error = await failure(client({ chunkSizeBytes }).pushBlob('org/app', BLOB, () => pieces(bytes)));
      expect(error.code).toBe(code);
      expect(fake.blobs.size).toBe(0);
      expect(server.requests.some((r) => r.method === 'PUT' && r.query.has('digest'))).toBe(false);
      // The abandoned session is cancelled.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(server.requests.at(-1)?.method).toBe('DELETE');
    }
  });

  it('restarts from POST with a fresh open() after a transient failure mid-upload', async () => {
    let patches = 0;
    server.handle = (req, res) => {
      if (req.method === 'PATCH' && (patches += 1) === 2)
        return reply(res, 503, {}, registryErrors('UNAVAILABLE', 'x'));
      return fake.handle(req, res);
    };
    let opened = 0;
    const logs: string[] = [];
    const sut = client({ chunkSizeBytes: 16, onLog: (line) => logs.push(line) });
    const outcome = await sut.pushBlob('org/app', BLOB, () => {
      opened += 1;
      return pieces(CONTENT);
    });
    expect(outcome).toBe('uploaded');
    expect(opened).toBe(2);
    expect(fake.blobs.get(BLOB.digest)).toEqual(CONTENT);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect(logs.some((l) => l.startsWith(`restarting upload of ${BLOB.digest}`))).toBe(true);
  });

  it('restarts after the socket is destroyed during a monolithic PUT, then gives up after retries', async () => {
    let puts = 0;
    server.handle = (req, res) => {
      if (req.method === 'PUT' && (puts += 1) <= 1) return void res.socket?.destroy();
      return fake.handle(req, res);
    };
    expect(await client().pushBlob('org/app', BLOB, () => CONTENT)).toBe('uploaded');

    useFake();
    server.handle = (req, res) => (req.method === 'PUT' ? void res.socket?.destroy() : fake.handle(req, res));
    const error = await failure(client({ retries: 2 }).pushBlob('org/app', BLOB, () => CONTENT));
    expect(error.code).toBe('REGISTRY_UNREACHABLE');
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
  });

  it('verifies the Docker-Content-Digest of the completed upload', async () => {
    server.handle = (req, res) =>
      req.method === 'PUT'
        ? reply(res, 201, { 'docker-content-digest': sha256(Buffer.from('x')) })
        : fake.handle(req, res);
    expect((await failure(client().pushBlob('org/app', BLOB, () => CONTENT))).code).toBe('DIGEST_MISMATCH');
  });

  it('refuses an upload session without a Location', async () => {
    server.handle = (req, res) => (req.method === 'POST' ? reply(res, 202) : fake.handle(req, res));
    const error = await failure(client().pushBlob('org/app', BLOB, () => CONTENT));
    expect(error.code).toBe('REGISTRY_PROTOCOL');
    expect(error.message).toContain('without a Location');
  });

  it('uploads an empty blob', async () => {
    const empty = { digest: sha256(Buffer.alloc(0)), size: 0 };
    expect(await client().pushBlob('org/app', empty, () => Buffer.alloc(0))).toBe('uploaded');
    expect(fake.blobs.get(empty.digest)).toEqual(Buffer.alloc(0));
  });
});

describe('RegistryClient.mountBlob', () => {
  it('is true on 201 and false on 202, cancelling the opened upload', async () => {
    fake.putBlob('org/base', CONTENT);
    expect(await client().mountBlob('org/app', BLOB.digest, 'org/base')).toBe(true);
    server.requests.length = 0;
    expect(await client().mountBlob('org/other', BLOB.digest, 'org/nothing')).toBe(false);
    expect(summary().map((s) => s.replace(/uploads\/[0-9a-f-]+$/, 'uploads/<id>'))).toEqual([
      'POST /v2/org/other/blobs/uploads/',
      'DELETE /v2/org/other/blobs/uploads/<id>',
    ]);
  });
});

describe('RegistryClient blob downloads', () => {
  beforeEach(() => {
    fake.putBlob('org/app', CONTENT);
  });

  it('fetches a small blob, verified', async () => {
    expect(await client().fetchBlob('org/app', BLOB)).toEqual(CONTENT);
    expect(server.requests[0].headers['accept-encoding']).toBe('identity');
  });

  it.each([
    ['longer', Buffer.concat([CONTENT, Buffer.from('!')]), 'SIZE_MISMATCH'],
    ['shorter', CONTENT.subarray(0, 30), 'SIZE_MISMATCH'],
    ['different', Buffer.from(CONTENT).fill(0x5a, 3, 4), 'DIGEST_MISMATCH'],
  ])('refuses %s content (%s), in memory and to a file', async (_name, served, code) => {
    server.handle = (_req, res) => reply(res, 200, {}, served);
    expect((await failure(client().fetchBlob('org/app', BLOB))).code).toBe(code);

    const target = await mkdtemp(join(dir, 'dl-'));
    const error = await failure(client().fetchBlobToFile('org/app', BLOB, join(target, 'blob')));
    expect(error.code).toBe(code);
    expect(await readdir(target)).toEqual([]); // temp removed, target not created
  });

  it('refuses oversized content streamed without Content-Length', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200);
      res.write(CONTENT);
      res.end(CONTENT);
    };
    const target = await mkdtemp(join(dir, 'dl-'));
    expect((await failure(client().fetchBlobToFile('org/app', BLOB, join(target, 'blob')))).code).toBe('SIZE_MISMATCH');
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses blobs above maxBytes without asking the registry', async () => {
    const error = await failure(client().fetchBlob('org/app', BLOB, 10));
    expect(error.code).toBe('SIZE_MISMATCH');
    expect(error.message).toContain('exceeds the limit of 10');
    expect(server.requests).toHaveLength(0);
  });

  it('streams to a file through a temporary sibling, retrying a reset mid-body', async () => {
    let calls = 0;
    server.handle = (req, res) => {
      if ((calls += 1) === 1) {
        res.writeHead(200, { 'content-length': String(CONTENT.length) });
        res.write(CONTENT.subarray(0, 5));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      return fake.handle(req, res);
    };
    const target = await mkdtemp(join(dir, 'dl-'));
    await client().fetchBlobToFile('org/app', BLOB, join(target, 'blob'));
    expect(await readFile(join(target, 'blob'))).toEqual(CONTENT);
    expect(await readdir(target)).toEqual(['blob']);
  });

  it('maps 404 to BLOB_UNKNOWN', async () => {
    const missing = { digest: sha256(Buffer.from('missing')), size: 7 };
    const error = await failure(client().fetchBlob('org/app', missing));
    expect(error.code).toBe('BLOB_UNKNOWN');
    expect(error.message).toContain('BLOB_UNKNOWN: blob unknown to registry');
    expect(await client().blobExists('org/app', missing.digest)).toBeUndefined();
  });
});
