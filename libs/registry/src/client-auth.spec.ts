import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { RegistryClient } from './client';
import { RegistryError } from './registry-error';
import { createFakeRegistry } from './testing/fake-registry';
import { registryErrors, reply, startTestServer, type TestServer } from './testing/test-server';
import { failure } from './testing/failure';

const USER = { username: 'robot', password: 'Sup3r-Secret-Passw0rd' };
const BASIC = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;
const MANIFEST = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let registry: TestServer;
let tokens: TestServer;

beforeAll(async () => {
  registry = await startTestServer();
  tokens = await startTestServer();
});
afterAll(async () => {
  await registry.close();
  await tokens.close();
});
beforeEach(() => {
  registry.requests.length = 0;
  tokens.requests.length = 0;
});

/** A client of the scripted registry; `null` means no credentials. */
function client(credentials: { username: string; password: string } | null = USER): RegistryClient {
  return new RegistryClient({
    registry: registry.host,
    plainHttp: true,
    credentials: credentials ?? undefined,
    retries: 1,
    retryBaseDelayMs: 1,
  });
}

/** Asserts no secret of the test occurs in the error's message, details or cause chain. */
function expectNoSecrets(error: Error, ...secrets: string[]): void {
  let text = `${error.message} ${JSON.stringify((error as RegistryError).details ?? {})}`;
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) text += ` ${cause.message}`;
  for (const secret of [USER.password, BASIC, BASIC.slice(6), ...secrets]) expect(text).not.toContain(secret);
}

describe('RegistryClient Basic auth', () => {
  beforeEach(() => {
    registry.handle = (req, res) => {
      if (req.headers.authorization !== BASIC) {
        return reply(
          res,
          401,
          { 'www-authenticate': 'Basic realm="test-realm"' },
          registryErrors('UNAUTHORIZED', 'authentication required'),
        );
      }
      return reply(res, 200, { 'content-type': OCI_MANIFEST }, MANIFEST);
    };
  });

  it('answers a Basic challenge with the credentials and keeps sending them', async () => {
    const sut = client();
    await sut.ping();
    await sut.getManifest('org/app', 'v1');
    expect(registry.requests.map((r) => [r.path, r.headers.authorization ?? null])).toEqual([
      ['/v2/', null],
      ['/v2/', BASIC],
      ['/v2/org/app/manifests/v1', BASIC],
    ]);
  });

  it('refuses a Basic challenge without configured credentials (REGISTRY_AUTH_FAILED)', async () => {
    const error = await failure(client(null).ping());
    expect(error.code).toBe('REGISTRY_AUTH_FAILED');
    expect(error.message).toContain('none are configured');
    expect(registry.requests).toHaveLength(1);
  });

  it('fails once on wrong credentials without retrying them or echoing them', async () => {
    const wrong = { username: USER.username, password: 'Wr0ng-Passw0rd-Value' };
    const error = await failure(client(wrong).getManifest('org/app', 'v1'));
    expect(error.code).toBe('REGISTRY_AUTH_FAILED');
    expect(registry.requests).toHaveLength(2);
    expectNoSecrets(error, wrong.password, Buffer.from(`robot:${wrong.password}`).toString('base64'));
  });

  it('redacts credentials a hostile registry echoes into its error messages', async () => {
    registry.handle = (req, res) => {
      if (req.headers.authorization !== BASIC) return reply(res, 401, { 'www-authenticate': 'Basic realm="r"' });
      const echo = `you sent ${req.headers.authorization} i.e. ${USER.username}:${USER.password}`;
      return reply(res, 400, {}, registryErrors('MANIFEST_INVALID', echo));
    };
    const error = await failure(client().pushManifest('org/app', 'v1', MANIFEST, OCI_MANIFEST));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toContain('you sent Basic ***');
    expectNoSecrets(error);
  });

  it('maps 403 to REGISTRY_DENIED, naming the registry error codes', async () => {
    registry.handle = (_req, res) =>
      reply(res, 403, {}, registryErrors('DENIED', 'requested access to the resource is denied'));
    const error = await failure(client().pushManifest('org/app', 'v1', MANIFEST, OCI_MANIFEST));
    expect(error.code).toBe('REGISTRY_DENIED');
    expect(error.message).toContain('PUT');
    expect(error.message).toContain(`${registry.host}/v2/org/app/manifests/v1`);
    expect(error.message).toContain('403');
    expect(error.message).toContain('DENIED: requested access to the resource is denied');
    expect(error.details).toMatchObject({ status: 403, errors: ['DENIED'] });
  });
});

describe('RegistryClient Bearer auth', () => {
  let issued: number;
  let expiresIn: number | undefined;

  beforeEach(() => {
    issued = 0;
    expiresIn = 300;
    tokens.handle = (req, res) => {
      issued += 1;
      const body: Record<string, unknown> = { token: `tok-${issued}-${req.query.getAll('scope').join('+')}` };
      if (expiresIn !== undefined) body.expires_in = expiresIn;
      reply(res, 200, { 'content-type': 'application/json' }, body);
    };
    registry.handle = (req, res) => {
      const repository = /^\/v2\/(.+)\/manifests\//.exec(req.path)?.[1] ?? '';
      const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push';
      const scope = `repository:${repository}:${action}`;
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer tok-') || !auth.includes(scope)) {
        return reply(
          res,
          401,
          { 'www-authenticate': `Bearer realm="${tokens.origin}/token",service="test-registry",scope="${scope}"` },
          registryErrors('UNAUTHORIZED', 'authentication required'),
        );
      }
      if (req.method === 'PUT') return reply(res, 201, {});
      return reply(res, 200, { 'content-type': OCI_MANIFEST }, MANIFEST);
    };
  });

  it('fetches a token for the challenge scope with Basic credentials, then reuses it', async () => {
    const sut = client();
    await sut.getManifest('org/app', 'v1');
    await sut.getManifest('org/app', 'v2');

    expect(tokens.requests).toHaveLength(1);
    const [tokenRequest] = tokens.requests;
    expect(tokenRequest.path).toBe('/token');
    expect(tokenRequest.query.get('service')).toBe('test-registry');
    expect(tokenRequest.query.getAll('scope')).toEqual(['repository:org/app:pull']);
    expect(tokenRequest.headers.authorization).toBe(BASIC);
    expect(registry.requests.map((r) => r.headers.authorization ?? null)).toEqual([
      null,
      'Bearer tok-1-repository:org/app:pull',
      'Bearer tok-1-repository:org/app:pull',
    ]);
  });

  it('asks for a push scope for writes and caches tokens per scope', async () => {
    const sut = client();
    await sut.getManifest('org/app', 'v1');
    await sut.pushManifest('org/app', 'v1', MANIFEST, OCI_MANIFEST);
    await sut.pushManifest('org/app', 'v2', MANIFEST, OCI_MANIFEST);
    await sut.getManifest('org/app', 'v1');

    expect(tokens.requests.map((r) => r.query.getAll('scope'))).toEqual([
      ['repository:org/app:pull'],
      ['repository:org/app:pull,push'],
    ]);
    expect(registry.requests.filter((r) => r.headers.authorization === undefined)).toHaveLength(2);
  });

  it('requests tokens anonymously without credentials and accepts access_token', async () => {
    tokens.handle = (_req, res) => reply(res, 200, {}, { access_token: 'tok-anon-repository:org/app:pull' });
    await client(null).getManifest('org/app', 'v1');
    expect(tokens.requests[0].headers.authorization).toBeUndefined();
    expect(registry.requests[1].headers.authorization).toBe('Bearer tok-anon-repository:org/app:pull');
  });

  it('renews a token after expires_in', async () => {
    expiresIn = 1;
    const sut = client();
    await sut.getManifest('org/app', 'v1');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await sut.getManifest('org/app', 'v1');
    expect(tokens.requests).toHaveLength(2);
  });

  it('re-authenticates when a token is revoked during a streamed upload, restarting it with a fresh stream', async () => {
    const fake = createFakeRegistry({ origin: registry.origin });
    const revoked = new Set<string>();
    registry.handle = (req, res) => {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer tok-') || revoked.has(auth)) {
        const scope = 'repository:org/app:pull,push';
        return reply(res, 401, {
          'www-authenticate': `Bearer realm="${tokens.origin}/token",service="test-registry",scope="${scope}"`,
        });
      }
      if (req.method === 'PUT' && revoked.size === 0) {
        revoked.add(auth); // the first token dies right before the upload completes
        return reply(res, 401, {
          'www-authenticate': `Bearer realm="${tokens.origin}/token",service="test-registry"`,
        });
      }
      return fake.handle(req, res);
    };
    const content = Buffer.from('streamed layer content');
    const blob = { digest: `sha256:${createHash('sha256').update(content).digest('hex')}`, size: content.length };
    let opened = 0;
    const outcome = await client().pushBlob('org/app', blob, () => {
      opened += 1;
      return Readable.from([content.subarray(0, 5), content.subarray(5)]);
    });
    expect(outcome).toBe('uploaded');
    expect(opened).toBe(2);
    // HEAD (pull token), POST (pull,push token), then a fresh pull,push token after the revocation.
    expect(tokens.requests.map((r) => r.query.getAll('scope').at(-1))).toEqual([
      'repository:org/app:pull',
      'repository:org/app:pull,push',
      'repository:org/app:pull,push',
    ]);
    const sessions = registry.requests.filter((r) => r.method === 'POST' && r.headers.authorization !== undefined);
    expect(sessions).toHaveLength(2);
    expect(fake.blobs.get(blob.digest)).toEqual(content);
  });

  it('fails with REGISTRY_AUTH_FAILED on a second 401, never echoing the token or password', async () => {
    registry.handle = (req, res) =>
      reply(
        res,
        401,
        { 'www-authenticate': `Bearer realm="${tokens.origin}/token",service="s"` },
        // A hostile registry echoing the Authorization header back must not leak it into messages.
        registryErrors('UNAUTHORIZED', `bad token ${req.headers.authorization ?? ''}`),
      );
    const error = await failure(client().getManifest('org/app', 'v1'));
    expect(error.code).toBe('REGISTRY_AUTH_FAILED');
    expect(error.message).toContain('401 again after authenticating');
    expect(error.message).toContain('UNAUTHORIZED');
    expect(registry.requests).toHaveLength(2);
    expectNoSecrets(error, 'tok-1');
  });

  it('fails with REGISTRY_AUTH_FAILED when the token endpoint refuses the credentials', async () => {
    tokens.handle = (_req, res) => reply(res, 401, {}, registryErrors('UNAUTHORIZED', 'bad credentials'));
    const error = await failure(client().getManifest('org/app', 'v1'));
    expect(error.code).toBe('REGISTRY_AUTH_FAILED');
    expect(error.message).toContain('token request failed');
    expectNoSecrets(error);
  });

  it.each([
    ['no token', {}],
    ['an empty token', { token: '' }],
    ['a token with a newline', { token: 'a\nb' }],
  ])('fails with REGISTRY_AUTH_FAILED when the token endpoint returns %s', async (_name, body) => {
    tokens.handle = (_req, res) => reply(res, 200, {}, body);
    expect((await failure(client().getManifest('org/app', 'v1'))).code).toBe('REGISTRY_AUTH_FAILED');
  });

  it('fails with REGISTRY_AUTH_FAILED on a 401 without a usable challenge', async () => {
    registry.handle = (_req, res) => reply(res, 401, { 'www-authenticate': 'Digest realm="x"' });
    const error = await failure(client().ping());
    expect(error.message).toContain('without a supported challenge (schemes: digest)');
    registry.handle = (_req, res) => reply(res, 401, { 'www-authenticate': 'Bearer service="x"' });
    expect((await failure(client().ping())).message).toContain('without a realm');
  });
});

describe('RegistryClient token realm policy', () => {
  /** A fake https registry (injected fetch) whose Bearer realm is `realm`. */
  function fakeFetch(realm: string, seen: string[]): typeof fetch {
    return (async (input: string | URL | Request) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      seen.push(url.origin);
      if (url.origin === 'https://reg.example.com') {
        return new Response('', { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}"` } });
      }
      return new Response(JSON.stringify({ token: 'tok' }), { status: 200 });
    }) as typeof fetch;
  }

  it.each(['http://auth.example.com/token', 'ftp://auth.example.com/token', 'https://user:pw@auth.example.com/t'])(
    'refuses to send credentials to the realm %s',
    async (realm) => {
      const seen: string[] = [];
      const sut = new RegistryClient({ registry: 'reg.example.com', credentials: USER, fetch: fakeFetch(realm, seen) });
      const error = await failure(sut.ping());
      expect(error.code).toBe('REGISTRY_AUTH_FAILED');
      expect(seen).toEqual(['https://reg.example.com']);
    },
  );

  it('allows an http realm on loopback or with plainHttp', async () => {
    const seen: string[] = [];
    const sut = new RegistryClient({
      registry: 'reg.example.com',
      credentials: USER,
      retries: 0,
      fetch: fakeFetch('http://127.0.0.1:1/token', seen),
    });
    // The token fetch is attempted (and the second 401 then fails the request).
    await expect(sut.ping()).rejects.toMatchObject({ code: 'REGISTRY_AUTH_FAILED' });
    expect(seen).toEqual(['https://reg.example.com', 'http://127.0.0.1:1', 'https://reg.example.com']);
  });
});
