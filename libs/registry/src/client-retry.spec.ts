import { createHash } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { RegistryClient, type RegistryClientOptions } from './client';
import { registryErrors, reply, startTestServer, type TestServer } from './testing/test-server';
import { parseRetryAfter, Transport } from './transport';
import { failure } from './testing/failure';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const BLOB = Buffer.from('blob content that is served through a redirect');
const BLOB_DESCRIPTOR = { digest: `sha256:${createHash('sha256').update(BLOB).digest('hex')}`, size: BLOB.length };
const USER = { username: 'robot', password: 'Redirect-Secret-Passw0rd' };
const BASIC = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;

let registry: TestServer;
let storage: TestServer;

beforeAll(async () => {
  registry = await startTestServer();
  storage = await startTestServer();
});
afterAll(async () => {
  await registry.close();
  await storage.close();
});
beforeEach(() => {
  registry.requests.length = 0;
  storage.requests.length = 0;
});

function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({ registry: registry.host, plainHttp: true, retryBaseDelayMs: 1, ...options });
}

const serveManifest = (res: Parameters<TestServer['handle']>[1]) =>
  reply(res, 200, { 'content-type': OCI_MANIFEST }, MANIFEST);

describe('RegistryClient retries', () => {
  it('retries 503 and then succeeds', async () => {
    let calls = 0;
    registry.handle = (_req, res) => {
      calls += 1;
      if (calls <= 2) return reply(res, 503, {}, registryErrors('UNAVAILABLE', 'try later'));
      return serveManifest(res);
    };
    const logs: string[] = [];
    const fetched = await client({ onLog: (line) => logs.push(line) }).getManifest('org/app', 'v1');
    expect(fetched?.bytes).toEqual(MANIFEST);
    expect(registry.requests).toHaveLength(3);
    expect(logs.filter((l) => l.startsWith('retrying GET'))).toHaveLength(2);
  });

  it('waits for Retry-After on 429', async () => {
    let calls = 0;
    registry.handle = (_req, res) => {
      calls += 1;
      if (calls === 1) return reply(res, 429, { 'retry-after': '1' }, registryErrors('TOOMANYREQUESTS', 'slow down'));
      return serveManifest(res);
    };
    const started = Date.now();
    await client().getManifest('org/app', 'v1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(registry.requests).toHaveLength(2);
  });

  it('retries when the socket is destroyed mid-response (ECONNRESET)', async () => {
    let calls = 0;
    registry.handle = (_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(MANIFEST.length) });
        res.write(MANIFEST.subarray(0, 10));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      if (calls === 2) return void res.socket?.destroy();
      return serveManifest(res);
    };
    const fetched = await client().getManifest('org/app', 'v1');
    expect(fetched?.bytes).toEqual(MANIFEST);
    expect(registry.requests).toHaveLength(3);
  });

  it('gives up after `retries` with REGISTRY_UNREACHABLE naming the status', async () => {
    registry.handle = (_req, res) => reply(res, 503, {}, registryErrors('UNAVAILABLE', 'maintenance'));
    const error = await failure(client({ retries: 2 }).getManifest('org/app', 'v1'));
    expect(error.code).toBe('REGISTRY_UNREACHABLE');
    expect(error.message).toContain(`GET ${registry.host}/v2/org/app/manifests/v1`);
    expect(error.message).toContain('503');
    expect(error.message).toContain('UNAVAILABLE: maintenance');
    expect(error.message).toContain('gave up after 3 attempts');
    expect(error.details).toMatchObject({ status: 503, retryable: true, attempts: 3 });
    expect(registry.requests).toHaveLength(3);
  });

  it('gives up on repeated socket errors with REGISTRY_UNREACHABLE', async () => {
    registry.handle = (_req, res) => void res.socket?.destroy();
    const error = await failure(client({ retries: 1 }).getManifest('org/app', 'v1'));
    expect(error.code).toBe('REGISTRY_UNREACHABLE');
    expect(error.message).toContain('network error');
    expect(registry.requests).toHaveLength(2);
  });

  it('reports a refused connection as REGISTRY_UNREACHABLE', async () => {
    const closed = await startTestServer();
    await closed.close();
    const sut = new RegistryClient({ registry: closed.host, plainHttp: true, retries: 1, retryBaseDelayMs: 1 });
    expect((await failure(sut.ping())).code).toBe('REGISTRY_UNREACHABLE');
  });

  it('times out a request that makes no progress', async () => {
    registry.handle = () => undefined; // never answers
    const error = await failure(client({ retries: 0, timeoutMs: 200 }).ping());
    expect(error.code).toBe('REGISTRY_UNREACHABLE');
    expect(error.message).toContain('no progress for 200 ms');
  });

  it('does not retry client errors or 501', async () => {
    registry.handle = (_req, res) => reply(res, 400, {}, registryErrors('MANIFEST_INVALID', 'manifest invalid'));
    const invalid = await failure(client().pushManifest('org/app', 'v1', MANIFEST, OCI_MANIFEST));
    expect(invalid.code).toBe('MANIFEST_INVALID');
    expect(registry.requests).toHaveLength(1);
    registry.handle = (_req, res) => reply(res, 501);
    expect((await failure(client().ping())).code).toBe('REGISTRY_PROTOCOL');
    expect(registry.requests).toHaveLength(2);
  });

  it('computes backoff with jitter and honours (capped) Retry-After', () => {
    const transport = new Transport({
      registry: 'reg.io',
      plainHttp: false,
      fetch,
      retries: 4,
      retryBaseDelayMs: 200,
      timeoutMs: 1000,
      userAgent: 'test',
      log: () => undefined,
    });
    for (let i = 0; i < 20; i += 1) {
      expect(transport.delay(1)).toBeGreaterThanOrEqual(100);
      expect(transport.delay(1)).toBeLessThanOrEqual(200);
      expect(transport.delay(3)).toBeGreaterThanOrEqual(400);
      expect(transport.delay(3)).toBeLessThanOrEqual(800);
    }
    expect(transport.delay(20)).toBe(30_000);
    expect(transport.delay(1, 2_000)).toBe(2_000);
    expect(transport.delay(1, 3_600_000)).toBe(30_000);
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('RegistryClient redirects', () => {
  beforeEach(() => {
    storage.handle = (_req, res) => reply(res, 200, { 'content-type': 'application/octet-stream' }, BLOB);
  });

  /** Basic-protected registry redirecting blob GETs to `target(req)`. */
  function redirectingRegistry(target: () => string, status = 307): void {
    registry.handle = (req, res) => {
      if (req.headers.authorization !== BASIC) return reply(res, 401, { 'www-authenticate': 'Basic realm="r"' });
      if (req.path.startsWith('/storage/')) return reply(res, 200, {}, BLOB);
      return reply(res, status, { location: target() });
    };
  }

  it('never forwards Authorization to another origin', async () => {
    redirectingRegistry(() => `${storage.origin}/bucket/blob?X-Signature=abc`);
    const bytes = await client({ credentials: USER }).fetchBlob('org/app', BLOB_DESCRIPTOR);
    expect(bytes).toEqual(BLOB);
    expect(registry.requests.at(-1)?.headers.authorization).toBe(BASIC);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0].headers.authorization).toBeUndefined();
    expect(storage.requests[0].url).toBe('/bucket/blob?X-Signature=abc');
  });

  it('keeps Authorization on a same-origin redirect (relative Location)', async () => {
    redirectingRegistry(() => '/storage/blob', 302);
    const bytes = await client({ credentials: USER }).fetchBlob('org/app', BLOB_DESCRIPTOR);
    expect(bytes).toEqual(BLOB);
    const last = registry.requests.at(-1);
    expect(last?.path).toBe('/storage/blob');
    expect(last?.headers.authorization).toBe(BASIC);
  });

  it('does not send Authorization to a different port on the same host', async () => {
    redirectingRegistry(() => `http://localhost:${storage.host.split(':')[1]}/b`);
    await client({ credentials: USER }).fetchBlob('org/app', BLOB_DESCRIPTOR);
    expect(storage.requests[0].headers.authorization).toBeUndefined();
  });

  it('stops after 5 redirects with REGISTRY_PROTOCOL, without leaking the query', async () => {
    registry.handle = (_req, res) => reply(res, 302, { location: '/v2/loop?token=secret-query-value' });
    const error = await failure(client().ping());
    expect(error.code).toBe('REGISTRY_PROTOCOL');
    expect(error.message).toContain('more than 5 redirects');
    expect(error.message).not.toContain('secret-query-value');
    expect(registry.requests).toHaveLength(6);
  });

  it('refuses a redirect from https to http', async () => {
    const seen: string[] = [];
    const fake = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      seen.push(url);
      return new Response(null, { status: 302, headers: { location: 'http://reg.example.com/plain' } });
    }) as typeof fetch;
    const error = await failure(new RegistryClient({ registry: 'reg.example.com', fetch: fake }).ping());
    expect(error.code).toBe('REGISTRY_PROTOCOL');
    expect(error.message).toContain('from https to http');
    expect(seen).toEqual(['https://reg.example.com/v2/']);
  });
});
