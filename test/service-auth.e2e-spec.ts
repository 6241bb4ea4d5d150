import { createHash } from 'node:crypto';

import { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startApiUnderTest, type ApiUnderTest } from './support/api-under-test';
import { TEST_ADMIN_TOKEN, type ServiceProcess } from './support/service-harness';

// HTTP contract of the API: authentication, scopes, input validation, error shape, rate limits.
// One API process (no worker: accepted builds stay queued) on a throwaway PostgreSQL database.

type Json = { code?: string; message?: string; field?: string; [key: string]: unknown };
interface Reply {
  status: number;
  body: Json;
  headers: Headers;
  text: string;
}

const REPOSITORY = 'https://git.example.com/org/wallet.git';
const SHA = (seed: string) => createHash('sha1').update(seed).digest('hex');
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const UNKNOWN_DIGEST = `sha256:${'0'.repeat(64)}`;

let api: ApiUnderTest;
let db: Client;
let service: ServiceProcess;
let queue: Queue;

const tokens: Record<'writer' | 'reader' | 'auditor' | 'writerAuditor' | 'revoked', { id: string; token: string }> =
  {} as never;
let queuedBuildId: string;

interface RequestOptions {
  token?: string;
  /** serialised as JSON with Content-Type: application/json */
  body?: unknown;
  /** sent as is, with Content-Type: application/json unless `headers` says otherwise */
  raw?: string;
  /** sent as bytes with no Content-Type at all */
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

/** Every request in this file goes through here: no answer may be a 5xx. */
async function call(method: string, path: string, options: RequestOptions = {}, base = service.url): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  const body = options.bytes ?? options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    // not JSON: expectError fails on the missing code
  }
  expect(response.status, `${method} ${path} answered ${response.status}: ${text}`).toBeLessThan(500);
  return { status: response.status, body: parsed, headers: response.headers, text };
}

/** Asserts a `{code, message}` error body whose message names the problem. */
function expectError(reply: Reply, status: number, code: string, message: RegExp): void {
  expect({ status: reply.status, body: reply.body }).toMatchObject({ status, body: { code, message } });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
}

/** Builds stored in the database and jobs in the queue: a rejected submission changes neither. */
async function footprint(): Promise<{ rows: number; jobs: number }> {
  const rows = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM builds')).rows[0].n);
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  return { rows, jobs: Object.values(counts).reduce((a, b) => a + b, 0) };
}

async function createToken(name: string, scopes: string[]): Promise<{ id: string; token: string }> {
  const reply = await call('POST', '/v1/tokens', { token: TEST_ADMIN_TOKEN, body: { name, scopes } });
  expect(reply.status, reply.text).toBe(201);
  return { id: String(reply.body.id), token: String(reply.body.token) };
}

async function submit(token: string, body: unknown, headers?: Record<string, string>): Promise<Reply> {
  return call('POST', '/v1/builds', { token, body, headers });
}

beforeAll(async () => {
  api = await startApiUnderTest();
  ({ db, service, queue } = api);

  tokens.writer = await createToken('writer', ['builds:write']);
  tokens.reader = await createToken('reader', ['builds:read']);
  tokens.auditor = await createToken('auditor', ['provenance:read']);
  tokens.writerAuditor = await createToken('writer-auditor', ['builds:write', 'provenance:read']);
  tokens.revoked = await createToken('revoked', ['builds:write', 'builds:read', 'provenance:read']);
  const revoke = await call('DELETE', `/v1/tokens/${tokens.revoked.id}`, { token: TEST_ADMIN_TOKEN });
  expect(revoke.status).toBe(204);

  const accepted = await submit(tokens.writer.token, { repository: REPOSITORY, commit: SHA('queued') });
  expect(accepted.status, accepted.text).toBe(202);
  queuedBuildId = String(accepted.body.id);
});

afterAll(async () => {
  await api?.close();
});

describe('authentication and scopes on every /v1 endpoint', () => {
  type Role = keyof typeof tokens | 'admin';
  interface Endpoint {
    label: string;
    method: string;
    path: () => string;
    body?: () => unknown;
    /** roles whose tokens lack the scope */
    forbidden: Role[];
    /** roles that pass the scope check (the answer is then anything but 401/403) */
    allowed: Role[];
  }
  const validBuild = () => ({ repository: REPOSITORY, commit: SHA(`auth-${Math.random()}`) });
  const ENDPOINTS: Endpoint[] = [
    {
      label: 'POST /v1/builds',
      method: 'POST',
      path: () => '/v1/builds',
      body: validBuild,
      forbidden: ['reader', 'auditor'],
      allowed: ['writer', 'writerAuditor', 'admin'],
    },
    {
      label: 'GET /v1/builds',
      method: 'GET',
      path: () => '/v1/builds',
      forbidden: ['writer', 'auditor', 'writerAuditor'],
      allowed: ['reader', 'admin'],
    },
    {
      label: 'GET /v1/builds/{id}',
      method: 'GET',
      path: () => `/v1/builds/${queuedBuildId}`,
      forbidden: ['writer', 'auditor'],
      allowed: ['reader', 'admin'],
    },
    {
      label: 'GET /v1/builds/{id}/logs',
      method: 'GET',
      path: () => `/v1/builds/${queuedBuildId}/logs`,
      forbidden: ['writer', 'auditor', 'writerAuditor'],
      allowed: ['reader', 'admin'],
    },
    {
      label: 'GET /v1/builds/{id}/provenance',
      method: 'GET',
      path: () => `/v1/builds/${queuedBuildId}/provenance`,
      forbidden: ['writer', 'reader'],
      allowed: ['auditor', 'writerAuditor', 'admin'],
    },
    {
      label: 'POST /v1/builds/{id}/cancel',
      method: 'POST',
      path: () => `/v1/builds/${UNKNOWN_ID}/cancel`,
      forbidden: ['reader', 'auditor'],
      allowed: ['writer', 'admin'],
    },
    {
      label: 'GET /v1/attestations/{digest}',
      method: 'GET',
      path: () => `/v1/attestations/${UNKNOWN_DIGEST}`,
      forbidden: ['writer', 'reader'],
      allowed: ['auditor', 'admin'],
    },
    {
      label: 'GET /v1/builders',
      method: 'GET',
      path: () => '/v1/builders',
      forbidden: ['writer'],
      allowed: ['reader', 'auditor', 'admin'],
    },
    {
      label: 'POST /v1/tokens',
      method: 'POST',
      path: () => '/v1/tokens',
      body: () => ({ name: 'from-test', scopes: ['builds:read'] }),
      forbidden: ['writer', 'reader', 'auditor', 'writerAuditor'],
      allowed: ['admin'],
    },
    {
      label: 'DELETE /v1/tokens/{id}',
      method: 'DELETE',
      path: () => `/v1/tokens/${UNKNOWN_ID}`,
      forbidden: ['writer', 'reader', 'auditor', 'writerAuditor'],
      allowed: ['admin'],
    },
  ];
  const tokenOf = (role: Role) => (role === 'admin' ? TEST_ADMIN_TOKEN : tokens[role].token);

  const CREDENTIALS: { label: string; headers: () => Record<string, string>; message: RegExp }[] = [
    { label: 'no Authorization header', headers: () => ({}), message: /missing bearer token/ },
    { label: 'Basic credentials', headers: () => ({ authorization: 'Basic YWRtaW46YWRtaW4=' }), message: /malformed/ },
    { label: 'Bearer without a token', headers: () => ({ authorization: 'Bearer' }), message: /malformed/ },
    { label: 'Bearer with two words', headers: () => ({ authorization: 'Bearer a b' }), message: /malformed/ },
    {
      label: 'unknown token',
      headers: () => ({ authorization: 'Bearer sbt_this_token_was_never_issued_000000' }),
      message: /unknown or revoked token/,
    },
    {
      label: 'revoked token',
      headers: () => ({ authorization: `Bearer ${tokens.revoked.token}` }),
      message: /unknown or revoked token/,
    },
  ];

  for (const endpoint of ENDPOINTS) {
    describe(endpoint.label, () => {
      it.each(CREDENTIALS)('$label → 401 with WWW-Authenticate: Bearer', async ({ headers, message }) => {
        const before = await footprint();
        const reply = await call(endpoint.method, endpoint.path(), { body: endpoint.body?.(), headers: headers() });
        expectError(reply, 401, 'UNAUTHENTICATED', message);
        expect(reply.headers.get('www-authenticate')).toBe('Bearer');
        expect(await footprint()).toEqual(before);
      });

      it.each(endpoint.forbidden)('%s token → 403 naming the missing scope', async (role) => {
        const before = await footprint();
        const tokenRows = await db.query('SELECT id FROM api_tokens WHERE revoked_at IS NULL');
        const reply = await call(endpoint.method, endpoint.path(), { token: tokenOf(role), body: endpoint.body?.() });
        expectError(reply, 403, 'FORBIDDEN', /lacks the '[a-z:]+' scope|needs one of the scopes/);
        expect(await footprint()).toEqual(before);
        expect((await db.query('SELECT id FROM api_tokens WHERE revoked_at IS NULL')).rowCount).toBe(
          tokenRows.rowCount,
        );
      });

      it.each(endpoint.allowed)('%s token passes the scope check', async (role) => {
        const reply = await call(endpoint.method, endpoint.path(), { token: tokenOf(role), body: endpoint.body?.() });
        expect(reply.status, reply.text).not.toBe(401);
        expect(reply.status, reply.text).not.toBe(403);
      });
    });
  }

  it('a revoked token stops working at once; revoking it again is 404', async () => {
    const token = await createToken('short-lived', ['builds:read']);
    expect((await call('GET', '/v1/builds', { token: token.token })).status).toBe(200);
    expect((await call('DELETE', `/v1/tokens/${token.id}`, { token: TEST_ADMIN_TOKEN })).status).toBe(204);
    expectError(await call('GET', '/v1/builds', { token: token.token }), 401, 'UNAUTHENTICATED', /revoked/);
    expectError(
      await call('DELETE', `/v1/tokens/${token.id}`, { token: TEST_ADMIN_TOKEN }),
      404,
      'NOT_FOUND',
      /not found or already revoked/,
    );
  });

  it('a non-admin cannot revoke a token; the token keeps working', async () => {
    const token = await createToken('survivor', ['builds:read']);
    expectError(
      await call('DELETE', `/v1/tokens/${token.id}`, { token: tokens.writerAuditor.token }),
      403,
      'FORBIDDEN',
      /'admin' scope/,
    );
    expect((await call('GET', '/v1/builds', { token: token.token })).status).toBe(200);
  });
});

describe('public endpoints need no token', () => {
  it.each(['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs'])('GET %s → 200', async (path) => {
    const reply = await call('GET', path);
    expect(reply.status, reply.text).toBe(200);
  });

  it('openapi.json is a valid document listing the /v1/builds paths', async () => {
    const reply = await call('GET', '/openapi.json');
    const document = JSON.parse(reply.text) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/builds',
        '/v1/builds/{id}',
        '/v1/builds/{id}/logs',
        '/v1/builds/{id}/provenance',
        '/v1/builds/{id}/cancel',
        '/v1/attestations/{digest}',
        '/v1/tokens',
      ]),
    );
    expect(Object.keys(document.paths['/v1/builds'])).toEqual(expect.arrayContaining(['get', 'post']));
  });
});

describe('POST /v1/builds rejects malformed requests, storing and queueing nothing', () => {
  const commit = SHA('malformed');
  const valid = { repository: REPOSITORY, commit };
  const hex = (n: number) => 'a'.repeat(n);
  interface Case {
    name: string;
    body?: unknown;
    raw?: string;
    bytes?: Uint8Array;
    headers?: Record<string, string>;
    status: number;
    code: string;
    field?: string;
    message: RegExp;
    /** text that must not appear anywhere in the response */
    secret?: string;
  }
  const CASES: Case[] = [
    {
      name: 'missing repository',
      body: { commit },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: is required/,
    },
    {
      name: 'missing commit',
      body: { repository: REPOSITORY },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: is required/,
    },
    {
      name: 'abbreviated SHA',
      body: { ...valid, commit: 'a1b2c3d' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: abbreviated/,
    },
    {
      name: 'a ref name as commit',
      body: { ...valid, commit: 'main' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: a ref is not a commit pin/,
    },
    {
      name: 'revision expression as commit',
      body: { ...valid, commit: 'HEAD~1' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: /,
    },
    {
      name: '39-hex commit',
      body: { ...valid, commit: hex(39) },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: abbreviated/,
    },
    {
      name: '41-hex commit',
      body: { ...valid, commit: hex(41) },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: .*41 hex digits/,
    },
    {
      name: '65-hex commit',
      body: { ...valid, commit: hex(65) },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: /,
    },
    {
      name: 'upper-case hex with garbage',
      body: { ...valid, commit: `${'A'.repeat(39)}Z` },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: /,
    },
    {
      name: 'ext:: remote helper URL',
      body: { ...valid, repository: 'ext::sh -c touch% /tmp/pwned' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: remote-helper syntax/,
    },
    {
      name: 'URL with embedded credentials',
      body: { ...valid, repository: 'https://deploy:hunter2-s3cret@git.example.com/org/wallet.git' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: .*embeds credentials/,
      secret: 'hunter2-s3cret',
    },
    {
      name: "URL starting with '-'",
      body: { ...valid, repository: '--upload-pack=touch /tmp/pwned' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: .*starts with "-"/,
    },
    {
      name: 'newline in the URL',
      body: { ...valid, repository: `${REPOSITORY}\nfoo` },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: .*control characters/,
    },
    {
      name: 'control character in the URL',
      body: { ...valid, repository: 'https://git.example.com/o\u0001rg.git' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: .*control characters/,
    },
    {
      name: 'local path (local repos off)',
      body: { ...valid, repository: '/srv/git/wallet' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: local repositories are refused/,
    },
    {
      name: 'file:// URL (local repos off)',
      body: { ...valid, repository: 'file:///srv/git/wallet' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: local repositories are refused/,
    },
    {
      name: "ref 'main'",
      body: { ...valid, ref: 'main' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'ref',
      message: /^ref: .*refs\/heads\//,
    },
    {
      name: "ref '--upload-pack=x'",
      body: { ...valid, ref: '--upload-pack=x' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'ref',
      message: /^ref: .*could be read as an option/,
    },
    {
      name: "recipePath '../x'",
      body: { ...valid, recipePath: '../x' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'recipePath',
      message: /^recipePath: .*leaves the repository/,
    },
    {
      name: "recipePath '/etc/passwd'",
      body: { ...valid, recipePath: '/etc/passwd' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'recipePath',
      message: /^recipePath: .*relative path/,
    },
    {
      name: 'imageName with upper case',
      body: { ...valid, imageName: 'Registry.example.com/Org/App' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'imageName',
      message: /^imageName: must be an image reference/,
    },
    {
      name: 'imageName with spaces',
      body: { ...valid, imageName: 'registry.example.com/org/my app' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'imageName',
      message: /^imageName: must be an image reference/,
    },
    {
      name: 'unknown extra field',
      body: { ...valid, shell: 'rm -rf /' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'shell',
      message: /^shell: unknown field/,
    },
    {
      name: 'commit: 123',
      body: { ...valid, commit: 123 },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'commit',
      message: /^commit: .*expected string/,
    },
    {
      name: 'repository: []',
      body: { ...valid, repository: [] },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'repository',
      message: /^repository: .*expected string/,
    },
    {
      name: 'ref: null',
      body: { ...valid, ref: null },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'ref',
      message: /^ref: .*expected string/,
    },
    {
      name: 'body is a JSON array',
      raw: JSON.stringify([valid]),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'body',
      message: /^body: must be a JSON object/,
    },
    {
      name: 'non-JSON body',
      raw: 'repository=https://git.example.com/x',
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'body',
      message: /^body is not valid JSON/,
    },
    {
      name: 'truncated JSON',
      raw: JSON.stringify(valid).slice(0, 30),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'body',
      message: /^body is not valid JSON/,
    },
    ...['null', '"https://git.example.com/x.git"', '42', 'true'].map((raw) => ({
      name: `JSON ${raw}`,
      raw,
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'body',
      message: /^body: must be a JSON object/,
    })),
    {
      name: 'Content-Type text/plain',
      raw: JSON.stringify(valid),
      headers: { 'content-type': 'text/plain' },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: /application\/json/,
    },
    {
      name: 'no Content-Type',
      bytes: new TextEncoder().encode(JSON.stringify(valid)),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: /application\/json/,
    },
    {
      name: 'body over 1 MB',
      body: { ...valid, imageName: 'a'.repeat(1_100_000) },
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: /larger than the 1 MB limit/,
    },
    {
      name: 'non-ASCII Idempotency-Key',
      body: valid,
      headers: { 'idempotency-key': 'cl\u00e9' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'Idempotency-Key',
      message: /^Idempotency-Key: must be 1-255 printable ASCII/,
    },
    {
      name: 'Idempotency-Key over 255 characters',
      body: valid,
      headers: { 'idempotency-key': 'k'.repeat(256) },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'Idempotency-Key',
      message: /^Idempotency-Key: must be 1-255 printable ASCII/,
    },
  ];

  it.each(CASES)('$name → $status', async (c) => {
    const before = await footprint();
    const reply = await call('POST', '/v1/builds', { ...c, token: tokens.writer.token });
    expectError(reply, c.status, c.code, c.message);
    if (c.field) expect(reply.body.field).toBe(c.field);
    if (c.secret) expect(reply.text + JSON.stringify([...reply.headers])).not.toContain(c.secret);
    expect(await footprint()).toEqual(before);
  });

  it('the same body is accepted once it is well-formed (the table is not rejecting everything)', async () => {
    const before = await footprint();
    const reply = await submit(tokens.writer.token, {
      ...valid,
      ref: 'refs/heads/main',
      imageName: 'registry.example.com/org/wallet:1.0',
    });
    expect(reply.status, reply.text).toBe(202);
    expect(await footprint()).toEqual({ rows: before.rows + 1, jobs: before.jobs + 1 });
  });
});

describe('reading builds: bad filters and unknown ids', () => {
  it.each([
    ['status=bogus', 'status', /^status: must be one of queued, running/],
    ['limit=0', 'limit', /^limit: must be an integer 1-200/],
    ['limit=201', 'limit', /^limit: must be an integer 1-200/],
    ['limit=abc', 'limit', /^limit: must be an integer 1-200/],
    ['limit=1.5', 'limit', /^limit: must be an integer 1-200/],
    ['commit=short', 'commit', /^commit: must be a full lower-case commit SHA/],
    ['repository=a&repository=b', 'repository', /^repository: must be given once/],
    ['status=queued&status=failed', 'status', /^status: must be given once/],
  ])('GET /v1/builds?%s → 400 naming %s', async (query, field, message) => {
    const reply = await call('GET', `/v1/builds?${query}`, { token: tokens.reader.token });
    expectError(reply, 400, 'VALIDATION_FAILED', message);
    expect(reply.body.field).toBe(field);
  });

  it.each(['garbage', '', 'eyJ0Ijoibm90LWEtZGF0ZSJ9'])('GET /v1/builds?cursor=%s → 400', async (cursor) => {
    const reply = await call('GET', `/v1/builds?cursor=${cursor}`, { token: tokens.reader.token });
    expectError(reply, 400, 'INVALID_CURSOR', /cursor/);
  });

  it('a valid listing pages with nextCursor', async () => {
    const reply = await call('GET', '/v1/builds?limit=1&status=queued', { token: tokens.reader.token });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.items).toHaveLength(1);
    const next = await call('GET', `/v1/builds?limit=1&cursor=${String(reply.body.nextCursor)}`, {
      token: tokens.reader.token,
    });
    expect(next.status, next.text).toBe(200);
  });

  it.each([
    ['GET', '/v1/builds/not-a-uuid', 'builds:read', /build not-a-uuid not found/],
    ['GET', `/v1/builds/${UNKNOWN_ID}`, 'builds:read', /not found/],
    ['GET', `/v1/builds/${UNKNOWN_ID}/logs`, 'builds:read', /not found/],
    ['GET', `/v1/builds/${UNKNOWN_ID}/provenance`, 'provenance:read', /not found/],
    ['GET', '/v1/builds/not-a-uuid/provenance', 'provenance:read', /not found/],
    ['POST', `/v1/builds/${UNKNOWN_ID}/cancel`, 'builds:write', /not found/],
    ['GET', `/v1/attestations/${UNKNOWN_DIGEST}`, 'provenance:read', /no attestation has subject/],
  ])('%s %s → 404', async (method, path, scope, message) => {
    const token = { 'builds:read': tokens.reader, 'builds:write': tokens.writer, 'provenance:read': tokens.auditor }[
      scope
    ]!.token;
    expectError(await call(method, path, { token }), 404, 'NOT_FOUND', message);
  });

  it.each(['sha256:XYZ', 'sha256:' + 'A'.repeat(64), 'sha512:' + 'a'.repeat(64), 'a'.repeat(64)])(
    'GET /v1/attestations/%s → 400',
    async (digest) => {
      const reply = await call('GET', `/v1/attestations/${digest}`, { token: tokens.auditor.token });
      expectError(reply, 400, 'VALIDATION_FAILED', /^digest: must be sha256:<64 lower-case hex>/);
    },
  );

  it('a queued build has no provenance yet → 404 saying so', async () => {
    const reply = await call('GET', `/v1/builds/${queuedBuildId}/provenance`, { token: tokens.auditor.token });
    expectError(reply, 404, 'NOT_FOUND', /has no provenance \(status queued\)/);
  });

  it('a queued build has an empty log', async () => {
    const reply = await call('GET', `/v1/builds/${queuedBuildId}/logs`, { token: tokens.reader.token });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
  });

  it('cancelling twice: the second is 409', async () => {
    const accepted = await submit(tokens.writer.token, { repository: REPOSITORY, commit: SHA('cancel-twice') });
    expect(accepted.status, accepted.text).toBe(202);
    const id = String(accepted.body.id);
    const first = await call('POST', `/v1/builds/${id}/cancel`, { token: tokens.writer.token });
    expect({ status: first.status, build: first.body.status }).toEqual({ status: 200, build: 'cancelled' });
    expect(await queue.getJob(`build-run-${id}`)).toBeUndefined();
    const second = await call('POST', `/v1/builds/${id}/cancel`, { token: tokens.writer.token });
    expectError(second, 409, 'CONFLICT', /already cancelled; nothing to cancel/);
  });
});

describe('tokens', () => {
  it.each([
    ['missing name', { scopes: ['builds:read'] }, 'name', /^name: must be 1-100 printable characters/],
    ['empty name', { name: '', scopes: ['builds:read'] }, 'name', /^name: /],
    ['name with a newline', { name: 'a\nb', scopes: ['builds:read'] }, 'name', /^name: /],
    ['missing scopes', { name: 'x' }, 'scopes', /^scopes: must be a non-empty list/],
    ['unknown scope', { name: 'x', scopes: ['builds:read', 'root'] }, 'scopes', /^scopes: must be a non-empty list/],
    ['empty scopes', { name: 'x', scopes: [] }, 'scopes', /^scopes: must be a non-empty list/],
    ['scopes not a list', { name: 'x', scopes: 'admin' }, 'scopes', /^scopes: /],
    [
      'extra field',
      { name: 'x', scopes: ['builds:read'], expiresAt: 'never' },
      'expiresAt',
      /^expiresAt: unknown field/,
    ],
    ['a JSON array', [{ name: 'x', scopes: ['builds:read'] }], 'body', /^body: must be a JSON object/],
  ])('POST /v1/tokens with %s → 400', async (_case, body, field, message) => {
    const before = await db.query('SELECT id FROM api_tokens');
    const reply = await call('POST', '/v1/tokens', { token: TEST_ADMIN_TOKEN, body });
    expectError(reply, 400, 'VALIDATION_FAILED', message);
    expect(reply.body.field).toBe(field);
    expect((await db.query('SELECT id FROM api_tokens')).rowCount).toBe(before.rowCount);
  });

  it('POST /v1/tokens with invalid JSON → 400', async () => {
    const reply = await call('POST', '/v1/tokens', { token: TEST_ADMIN_TOKEN, raw: '{"name": "x", ' });
    expectError(reply, 400, 'VALIDATION_FAILED', /^body is not valid JSON/);
  });

  it('POST /v1/tokens that is not JSON → 415', async () => {
    const reply = await call('POST', '/v1/tokens', {
      token: TEST_ADMIN_TOKEN,
      raw: 'name=x&scopes=admin',
      headers: { 'content-type': 'text/plain' },
    });
    expectError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/json/);
  });

  it('refuses to revoke the last active admin token (409), and allows it once another admin exists', async () => {
    const admins = (await db.query("SELECT id FROM api_tokens WHERE 'admin' = ANY(scopes) AND revoked_at IS NULL"))
      .rows as { id: string }[];
    expect(admins).toHaveLength(1);
    const refused = await call('DELETE', `/v1/tokens/${admins[0].id}`, { token: TEST_ADMIN_TOKEN });
    expectError(refused, 409, 'CONFLICT', /last active admin token/);
    const second = await call('POST', '/v1/tokens', {
      token: TEST_ADMIN_TOKEN,
      body: { name: 'admin-2', scopes: ['admin'] },
    });
    expect(second.status).toBe(201);
    const revoked = await call('DELETE', `/v1/tokens/${String(second.body.id)}`, { token: TEST_ADMIN_TOKEN });
    expect(revoked.status).toBe(204);
  });

  it('DELETE /v1/tokens/{id} of an unknown or malformed id → 404', async () => {
    for (const id of [UNKNOWN_ID, 'not-a-uuid']) {
      const reply = await call('DELETE', `/v1/tokens/${id}`, { token: TEST_ADMIN_TOKEN });
      expectError(reply, 404, 'NOT_FOUND', /not found or already revoked/);
    }
  });

  it('a token is shown once, at creation, and stored only as its SHA-256', async () => {
    const created = await call('POST', '/v1/tokens', {
      token: TEST_ADMIN_TOKEN,
      body: { name: 'shown-once', scopes: ['builds:read', 'builds:read'] },
    });
    expect(created.status, created.text).toBe(201);
    const plaintext = String(created.body.token);
    expect(created.body).toEqual({
      id: expect.any(String),
      token: expect.stringMatching(/^sbt_/),
      name: 'shown-once',
      scopes: ['builds:read'],
    });

    // There is no token listing; nothing else the API answers carries the secret.
    for (const [method, path] of [
      ['GET', '/v1/tokens'],
      ['GET', `/v1/tokens/${String(created.body.id)}`],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
    ]) {
      const reply = await call(method, path, { token: TEST_ADMIN_TOKEN });
      expect(reply.text).not.toContain(plaintext);
    }

    const rows = await db.query('SELECT * FROM api_tokens');
    const dump = JSON.stringify(rows.rows);
    expect(dump).not.toContain(plaintext);
    expect(dump).not.toContain(TEST_ADMIN_TOKEN);
    for (const token of Object.values(tokens)) expect(dump).not.toContain(token.token);
    const row = rows.rows.find((r: { id: string }) => r.id === created.body.id) as { token_sha256: string };
    expect(row.token_sha256).toBe(createHash('sha256').update(plaintext).digest('hex'));
  });
});

describe('per-token rate limit (2 requests/s, burst 3)', () => {
  let limited: ServiceProcess;
  let limitedQueue: Queue;

  beforeAll(async () => {
    ({ service: limited, queue: limitedQueue } = await api.startSibling({
      SECURE_BUILD_RATE_LIMIT_RPS: '2',
      SECURE_BUILD_RATE_LIMIT_BURST: '3',
    }));
  });

  it('the 4th rapid request of one token is 429 with Retry-After; another token is unaffected', async () => {
    const first = await createToken('rate-a', ['builds:read']);
    const second = await createToken('rate-b', ['builds:read']);
    const replies: Reply[] = [];
    for (let i = 0; i < 4; i++)
      replies.push(await call('GET', '/v1/builds?limit=1', { token: first.token }, limited.url));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expectError(replies[3], 429, 'RATE_LIMITED', /rate limit exceeded for this token; retry in \d+ s/);
    expect(Number(replies[3].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const other = await call('GET', '/v1/builds?limit=1', { token: second.token }, limited.url);
    expect(other.status, other.text).toBe(200);
  });

  it('a rate-limited submission stores and queues nothing', async () => {
    const writer = await createToken('rate-writer', ['builds:write']);
    const replies: Reply[] = [];
    for (let i = 0; i < 4; i++) {
      const body = { repository: REPOSITORY, commit: SHA(`rate-${i}`) };
      replies.push(await call('POST', '/v1/builds', { token: writer.token, body }, limited.url));
    }
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 429]);
    expect((await db.query('SELECT id FROM builds WHERE commit_sha = $1', [SHA('rate-3')])).rowCount).toBe(0);
    expect(await limitedQueue.getJobCountByTypes('waiting')).toBe(3);
  });
});
