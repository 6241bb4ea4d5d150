import { createHash, randomUUID } from 'node:crypto';

import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signWebhookBody } from '@secure-build/webhooks';

import { startApiUnderTest, type ApiUnderTest } from './support/api-under-test';
import { TEST_ADMIN_TOKEN, type ServiceProcess } from './support/service-harness';

// Admin CRUD of projects over HTTP: the webhook secret is write-only (never in a response), sealed at
// rest, and what authenticates deliveries; a rename, a new secret and a deletion take effect at once.
// One API process (no worker) on a throwaway PostgreSQL database.

type Json = { code?: string; message?: string; field?: string; [key: string]: unknown };
interface Reply {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
}
interface ProjectView {
  id: string;
  name: string;
  repository: string;
  allowedRefs: string[];
  recipePath: string;
  imageName: string | null;
  webhook: { provider: string; secretConfigured: boolean; url: string } | null;
  signaturePolicy: unknown;
  createdAt: string;
  updatedAt: string;
}

const PUBLIC_URL = 'https://build.example.com';
const REPOSITORY = 'https://git.example.com/org/wallet.git';
const SHA = (seed: string) => createHash('sha1').update(seed).digest('hex');
const FINGERPRINT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const ARMORED = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...\n-----END PGP PUBLIC KEY BLOCK-----\n';
const SIGNER = 'dev@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0000000000000000000000';

let api: ApiUnderTest;
let db: Client;
let service: ServiceProcess;
const tokens: Record<'writer' | 'reader' | 'auditor' | 'everything', string> = {} as never;
/** Every plaintext secret this file ever sent: none may come back in a response or sit in the database. */
const secretsSent: string[] = [];

interface RequestOptions {
  token?: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/** Every request in this file goes through here: no answer may be a 5xx or carry a secret. */
async function call(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${service.url}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    // not JSON
  }
  expect(response.status, `${method} ${path} answered ${response.status}: ${text}`).toBeLessThan(500);
  for (const secret of secretsSent) expect(text, `${method} ${path} echoed a webhook secret`).not.toContain(secret);
  return { status: response.status, body: parsed, text, headers: response.headers };
}

const admin = (method: string, path: string, options: Omit<RequestOptions, 'token'> = {}) =>
  call(method, path, { ...options, token: TEST_ADMIN_TOKEN });

/** Asserts a JSON `{code, message}` error whose message names the problem (and the field, if given). */
function expectError(reply: Reply, status: number, code: string, message: RegExp, field?: string): void {
  expect({ status: reply.status, code: reply.body.code }, reply.text).toEqual({ status, code });
  expect(reply.body.message, reply.text).toMatch(message);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  if (field !== undefined) expect(reply.body.field, reply.text).toBe(field);
}

function newSecret(): string {
  const secret = `whsec-${randomUUID()}`;
  secretsSent.push(secret);
  return secret;
}

async function createProject(fields: Record<string, unknown>): Promise<ProjectView> {
  const reply = await admin('POST', '/v1/projects', { body: fields });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as unknown as ProjectView;
}

/** A GitHub push to `project`, signed with `secret` over the exact bytes sent. */
async function deliver(project: string, secret: string, ref = 'refs/heads/main'): Promise<Reply> {
  const after = SHA(randomUUID());
  const body = JSON.stringify({
    ref,
    before: SHA('parent'),
    after,
    deleted: false,
    head_commit: { id: after, message: 'change' },
    repository: { id: 1, full_name: 'org/wallet', clone_url: REPOSITORY },
    pusher: { name: 'dev' },
  });
  const headers = signWebhookBody('github', body, secret, { event: 'push', deliveryId: randomUUID() });
  return call('POST', `/v1/webhooks/github/${project}`, { raw: body, headers });
}

async function sealedSecret(name: string): Promise<string | null> {
  const rows = await db.query<{ webhook_secret_sealed: string | null }>(
    'SELECT webhook_secret_sealed FROM projects WHERE name = $1',
    [name],
  );
  expect(rows.rowCount).toBe(1);
  return rows.rows[0].webhook_secret_sealed;
}

async function projectRows(): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM projects')).rows[0].n);
}

beforeAll(async () => {
  api = await startApiUnderTest({ SECURE_BUILD_PUBLIC_URL: PUBLIC_URL });
  ({ db, service } = api);
  const scopes = {
    writer: ['builds:write'],
    reader: ['builds:read'],
    auditor: ['provenance:read'],
    everything: ['builds:write', 'builds:read', 'provenance:read'],
  } as const;
  for (const [role, list] of Object.entries(scopes)) {
    const reply = await admin('POST', '/v1/tokens', { body: { name: role, scopes: list } });
    expect(reply.status, reply.text).toBe(201);
    tokens[role as keyof typeof tokens] = String(reply.body.token);
  }
});

afterAll(async () => {
  await api?.close();
});

describe('create, read, list', () => {
  it('POST → 201 with the project; the secret is write-only, sealed at rest, and works', async () => {
    const secret = newSecret();
    const reply = await admin('POST', '/v1/projects', {
      body: {
        name: 'wallet',
        repository: REPOSITORY,
        allowedRefs: ['refs/heads/main', 'refs/tags/v*'],
        recipePath: 'build/securebuild.yaml',
        imageName: 'registry.example.com/org/wallet:1.0',
        webhook: { provider: 'github', secret },
        signaturePolicy: { mode: 'ssh', allowedSigners: [SIGNER] },
      },
    });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'wallet',
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main', 'refs/tags/v*'],
      recipePath: 'build/securebuild.yaml',
      imageName: 'registry.example.com/org/wallet:1.0',
      webhook: { provider: 'github', secretConfigured: true, url: `${PUBLIC_URL}/v1/webhooks/github/wallet` },
      signaturePolicy: { mode: 'ssh', allowedSigners: `${SIGNER}\n` },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const view = reply.body as unknown as ProjectView;

    const got = await admin('GET', '/v1/projects/wallet');
    expect(got.status).toBe(200);
    expect(got.body).toEqual(reply.body);
    const list = await admin('GET', '/v1/projects');
    expect(list.status).toBe(200);
    expect((list.body.items as ProjectView[]).find((p) => p.name === 'wallet')).toEqual(reply.body);

    const sealed = await sealedSecret('wallet');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64url'));
    const row = await db.query('SELECT * FROM projects WHERE id = $1', [view.id]);
    expect(JSON.stringify(row.rows)).not.toContain(secret);

    const accepted = await deliver('wallet', secret);
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.body).toMatchObject({ outcome: 'build', buildId: expect.any(String) });
    const build = await db.query(
      'SELECT repository, ref, project_id, recipe_path, image_name FROM builds WHERE id = $1',
      [accepted.body.buildId],
    );
    expect(build.rows).toEqual([
      {
        repository: REPOSITORY,
        ref: 'refs/heads/main',
        project_id: view.id,
        recipe_path: 'build/securebuild.yaml',
        image_name: 'registry.example.com/org/wallet:1.0',
      },
    ]);

    // Nothing else the API serves carries the secret either (call() checks every response).
    for (const path of ['/openapi.json', '/metrics', `/v1/builds/${String(accepted.body.buildId)}`]) {
      expect((await admin('GET', path)).status).toBe(200);
    }
  });

  it('a project without a webhook shows webhook: null and receives no deliveries', async () => {
    const view = await createProject({ name: 'no-hook', repository: REPOSITORY, allowedRefs: ['refs/heads/main'] });
    expect(view).toMatchObject({
      webhook: null,
      recipePath: 'securebuild.yaml',
      imageName: null,
      signaturePolicy: { mode: 'none' },
    });
    expect(await sealedSecret('no-hook')).toBeNull();
    expectError(
      await deliver('no-hook', 'any-secret-at-all-000'),
      404,
      'NOT_FOUND',
      /no project 'no-hook' with a webhook/,
    );
  });

  it('normalizes the repository and the openpgp fingerprints', async () => {
    const view = await createProject({
      name: 'pgp',
      repository: 'HTTPS://git.example.com/org/wallet.git',
      allowedRefs: ['refs/heads/main'],
      signaturePolicy: { mode: 'openpgp', fingerprints: [FINGERPRINT], publicKeys: ARMORED },
    });
    expect(view.repository).toBe(REPOSITORY);
    expect(view.signaturePolicy).toEqual({
      mode: 'openpgp',
      fingerprints: [FINGERPRINT.toUpperCase()],
      publicKeys: ARMORED,
    });
  });

  it('a taken name → 409, on create and on rename; nothing changes', async () => {
    await createProject({ name: 'taken-a', repository: REPOSITORY, allowedRefs: ['refs/heads/main'] });
    await createProject({ name: 'taken-b', repository: REPOSITORY, allowedRefs: ['refs/heads/main'] });
    const before = await projectRows();
    const again = await admin('POST', '/v1/projects', {
      body: {
        name: 'taken-a',
        repository: REPOSITORY,
        allowedRefs: ['refs/heads/main'],
        webhook: { provider: 'github', secret: newSecret() },
      },
    });
    expectError(again, 409, 'CONFLICT', /project 'taken-a' already exists/);
    const rename = await admin('PATCH', '/v1/projects/taken-b', { body: { name: 'taken-a' } });
    expectError(rename, 409, 'CONFLICT', /project 'taken-a' already exists/);
    expect(await projectRows()).toBe(before);
    expect((await admin('GET', '/v1/projects/taken-b')).status).toBe(200);
    expect(await sealedSecret('taken-a')).toBeNull();
  });

  it.each([
    ['GET', '/v1/projects/missing'],
    ['PATCH', '/v1/projects/missing'],
    ['DELETE', '/v1/projects/missing'],
    ['GET', '/v1/projects/wallet%00x'],
    ['PATCH', '/v1/projects/wallet%00x'],
    ['DELETE', '/v1/projects/wallet%00x'],
    ['GET', `/v1/projects/${'a'.repeat(300)}`],
  ])('%s %s → 404', async (method, path) => {
    const reply = await admin(method, path, method === 'PATCH' ? { body: { recipePath: 'x.yaml' } } : {});
    expectError(reply, 404, 'NOT_FOUND', /^project .* not found$/);
  });
});

describe('PATCH and DELETE take effect for deliveries at once', () => {
  it('renames: the old name is gone, the new name receives with the same secret', async () => {
    const secret = newSecret();
    const created = await createProject({
      name: 'before-rename',
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'github', secret },
    });
    const sealed = await sealedSecret('before-rename');
    const renamed = await admin('PATCH', '/v1/projects/before-rename', { body: { name: 'after-rename' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({
      id: created.id,
      name: 'after-rename',
      webhook: { provider: 'github', secretConfigured: true, url: `${PUBLIC_URL}/v1/webhooks/github/after-rename` },
    });
    expect(await sealedSecret('after-rename')).toBe(sealed);
    expectError(await admin('GET', '/v1/projects/before-rename'), 404, 'NOT_FOUND', /before-rename not found/);
    expectError(await deliver('before-rename', secret), 404, 'NOT_FOUND', /no project 'before-rename'/);
    expect((await deliver('after-rename', secret)).status).toBe(202);
  });

  it('changes the allowed refs', async () => {
    const secret = newSecret();
    await createProject({
      name: 'refs',
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'github', secret },
    });
    expect((await deliver('refs', secret, 'refs/heads/release/1.2')).body).toMatchObject({ outcome: 'ignored' });
    const patched = await admin('PATCH', '/v1/projects/refs', { body: { allowedRefs: ['refs/heads/release/*'] } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.allowedRefs).toEqual(['refs/heads/release/*']);
    expect((await deliver('refs', secret, 'refs/heads/release/1.2')).body).toMatchObject({ outcome: 'build' });
    expect((await deliver('refs', secret, 'refs/heads/main')).body).toMatchObject({ outcome: 'ignored' });
  });

  it('a new secret: old-secret deliveries are 401 at once, new-secret ones build; the sealed value changes', async () => {
    const oldSecret = newSecret();
    await createProject({
      name: 'rotate',
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'github', secret: oldSecret },
    });
    expect((await deliver('rotate', oldSecret)).status).toBe(202);
    const sealedBefore = await sealedSecret('rotate');

    const newer = newSecret();
    const patched = await admin('PATCH', '/v1/projects/rotate', {
      body: { webhook: { provider: 'github', secret: newer } },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.webhook).toEqual({
      provider: 'github',
      secretConfigured: true,
      url: `${PUBLIC_URL}/v1/webhooks/github/rotate`,
    });
    const sealedAfter = await sealedSecret('rotate');
    expect(sealedAfter).toMatch(/^v1\./);
    expect(sealedAfter).not.toBe(sealedBefore);
    expect(sealedAfter).not.toContain(newer);

    expectError(await deliver('rotate', oldSecret), 401, 'SIGNATURE_INVALID', /x-hub-signature-256 does not match/);
    expect((await deliver('rotate', newer)).status).toBe(202);
  });

  it('switching the provider: deliveries must come from the new forge', async () => {
    const secret = newSecret();
    await createProject({
      name: 'switch',
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'github', secret },
    });
    const patched = await admin('PATCH', '/v1/projects/switch', { body: { webhook: { provider: 'gitea', secret } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.webhook).toMatchObject({ provider: 'gitea', url: `${PUBLIC_URL}/v1/webhooks/gitea/switch` });
    expectError(await deliver('switch', secret), 404, 'NOT_FOUND', /receives gitea webhooks, not github/);
  });

  it('webhook: null removes the webhook: deliveries → 404', async () => {
    const secret = newSecret();
    await createProject({
      name: 'unhook',
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'github', secret },
    });
    const patched = await admin('PATCH', '/v1/projects/unhook', { body: { webhook: null } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.webhook).toBeNull();
    expect(await sealedSecret('unhook')).toBeNull();
    expectError(await deliver('unhook', secret), 404, 'NOT_FOUND', /no project 'unhook' with a webhook/);
  });

  it('DELETE → 204; deliveries → 404; a second DELETE → 404; its builds stay', async () => {
    const secret = newSecret();
    await createProject({
      name: 'doomed',
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'github', secret },
    });
    const built = await deliver('doomed', secret);
    expect(built.status, built.text).toBe(202);
    const deleted = await admin('DELETE', '/v1/projects/doomed');
    expect(deleted.status, deleted.text).toBe(204);
    expect(deleted.text).toBe('');
    expectError(await admin('GET', '/v1/projects/doomed'), 404, 'NOT_FOUND', /doomed not found/);
    expectError(await deliver('doomed', secret), 404, 'NOT_FOUND', /no project 'doomed' with a webhook/);
    expectError(await admin('DELETE', '/v1/projects/doomed'), 404, 'NOT_FOUND', /doomed not found/);
    const build = await admin('GET', `/v1/builds/${String(built.body.buildId)}`);
    expect(build.status).toBe(200);
    expect((await db.query('SELECT project_id FROM builds WHERE id = $1', [built.body.buildId])).rows).toEqual([
      { project_id: null },
    ]);
    const list = await admin('GET', '/v1/projects');
    expect((list.body.items as ProjectView[]).map((p) => p.name)).not.toContain('doomed');
  });
});

describe('validation: 400 naming the field, nothing stored', () => {
  const valid = { name: 'valid-name', repository: REPOSITORY, allowedRefs: ['refs/heads/main'] };
  const CASES: [string, Record<string, unknown> | unknown[], string, RegExp][] = [
    ['name with upper case and a space', { ...valid, name: 'Bad Name' }, 'name', /^name: lower-case letters/],
    ['name starting with "-"', { ...valid, name: '-wallet' }, 'name', /^name: lower-case letters/],
    ['name of 64 characters', { ...valid, name: 'a'.repeat(64) }, 'name', /^name: lower-case letters/],
    ['name with a slash', { ...valid, name: 'org/wallet' }, 'name', /^name: /],
    ['missing name', { repository: REPOSITORY, allowedRefs: ['refs/heads/main'] }, 'name', /^name: is required/],
    ['missing repository', { name: 'x', allowedRefs: ['refs/heads/main'] }, 'repository', /^repository: is required/],
    [
      'repository with remote-helper syntax (ext::)',
      { ...valid, repository: 'ext::sh -c touch% /tmp/pwned' },
      'repository',
      /^repository: remote-helper syntax/,
    ],
    [
      'repository embedding credentials',
      { ...valid, repository: 'https://user:hunter2@git.example.com/org/wallet.git' },
      'repository',
      /^repository: repository URL embeds credentials/,
    ],
    [
      'repository that is a local path (not allowed here)',
      { ...valid, repository: '/srv/git/wallet.git' },
      'repository',
      /^repository: local path repository/,
    ],
    [
      'repository that is a file:// URL (not allowed here)',
      { ...valid, repository: 'file:///srv/git/wallet.git' },
      'repository',
      /^repository: file:\/\/ repository/,
    ],
    [
      'repository over git:// (unauthenticated)',
      { ...valid, repository: 'git://git.example.com/org/wallet.git' },
      'repository',
      /^repository: git:\/\/ is unauthenticated/,
    ],
    ['empty allowedRefs', { ...valid, allowedRefs: [] }, 'allowedRefs', /^allowedRefs: list at least one ref/],
    ['missing allowedRefs', { name: 'x', repository: REPOSITORY }, 'allowedRefs', /^allowedRefs: is required/],
    [
      "a ref pattern with '*' in the middle",
      { ...valid, allowedRefs: ['refs/heads/main', 'refs/heads/*/release'] },
      'allowedRefs.1',
      /^allowedRefs\.1: '\*' is only allowed at the end/,
    ],
    [
      'a ref not under refs/heads or refs/tags',
      { ...valid, allowedRefs: ['refs/pull/1/head'] },
      'allowedRefs.0',
      /^allowedRefs\.0: ref "refs\/pull\/1\/head" must be a full branch or tag ref/,
    ],
    ['a short ref name', { ...valid, allowedRefs: ['main'] }, 'allowedRefs.0', /must be a full branch or tag ref/],
    [
      'an option-like ref',
      { ...valid, allowedRefs: ['--upload-pack=touch /tmp/pwned'] },
      'allowedRefs.0',
      /starts with "-" and could be read as an option/,
    ],
    ['recipePath ../x', { ...valid, recipePath: '../x' }, 'recipePath', /^recipePath: recipe path '..\/x' leaves/],
    ['absolute recipePath', { ...valid, recipePath: '/etc/passwd' }, 'recipePath', /^recipePath: /],
    [
      'imageName with upper case',
      { ...valid, imageName: 'Registry.example.com/App' },
      'imageName',
      /^imageName: must be an image reference/,
    ],
    ['imageName without a path', { ...valid, imageName: 'wallet' }, 'imageName', /^imageName: must be an image/],
    [
      'unknown webhook provider',
      { ...valid, webhook: { provider: 'bitbucket', secret: 'a-long-enough-secret' } },
      'webhook.provider',
      /^webhook\.provider: /,
    ],
    [
      'webhook secret too short',
      { ...valid, webhook: { provider: 'github', secret: 'short' } },
      'webhook.secret',
      /^webhook\.secret: must be at least 16 characters/,
    ],
    [
      'webhook secret with a newline',
      { ...valid, webhook: { provider: 'github', secret: 'a-long-enough-secret\n' } },
      'webhook.secret',
      /^webhook\.secret: must not contain control characters/,
    ],
    [
      'webhook without a secret',
      { ...valid, webhook: { provider: 'github' } },
      'webhook.secret',
      /^webhook\.secret: is required/,
    ],
    [
      'unknown field inside webhook',
      { ...valid, webhook: { provider: 'github', secret: 'a-long-enough-secret', events: ['push'] } },
      'webhook.events',
      /^webhook\.events: unknown field/,
    ],
    [
      'signaturePolicy mode unknown',
      { ...valid, signaturePolicy: { mode: 'x509' } },
      'signaturePolicy.mode',
      /^signaturePolicy\.mode: /,
    ],
    [
      'ssh without allowedSigners',
      { ...valid, signaturePolicy: { mode: 'ssh' } },
      'signaturePolicy.allowedSigners',
      /^signaturePolicy\.allowedSigners: /,
    ],
    [
      'ssh with an empty allowedSigners list',
      { ...valid, signaturePolicy: { mode: 'ssh', allowedSigners: [] } },
      'signaturePolicy.allowedSigners',
      /^signaturePolicy\.allowedSigners: /,
    ],
    [
      'ssh allowedSigners with a NUL byte',
      { ...valid, signaturePolicy: { mode: 'ssh', allowedSigners: `${SIGNER}\u0000` } },
      'signaturePolicy.allowedSigners',
      /^signaturePolicy\.allowedSigners: must not contain control characters/,
    ],
    [
      'openpgp fingerprint not 40 hex',
      { ...valid, signaturePolicy: { mode: 'openpgp', fingerprints: ['ABCD1234'], publicKeys: ARMORED } },
      'signaturePolicy.fingerprints.0',
      /^signaturePolicy\.fingerprints\.0: fingerprints must be 40 hex characters/,
    ],
    [
      'openpgp publicKeys not armored',
      { ...valid, signaturePolicy: { mode: 'openpgp', fingerprints: [FINGERPRINT], publicKeys: 'mDMEZ...' } },
      'signaturePolicy.publicKeys',
      /^signaturePolicy\.publicKeys: must be ASCII-armored OpenPGP public keys/,
    ],
    [
      'openpgp publicKeys with a NUL byte',
      { ...valid, signaturePolicy: { mode: 'openpgp', fingerprints: [FINGERPRINT], publicKeys: `${ARMORED}\u0000` } },
      'signaturePolicy.publicKeys',
      /^signaturePolicy\.publicKeys: must not contain control characters/,
    ],
    ['unknown field', { ...valid, owner: 'someone' }, 'owner', /^owner: unknown field/],
    ['id given by the client', { ...valid, id: randomUUID() }, 'id', /^id: unknown field/],
    ['a JSON array', [valid], 'body', /^body: must be a JSON object/],
  ];

  it.each(CASES)('POST with %s → 400', async (_case, body, field, message) => {
    const before = await projectRows();
    const reply = await admin('POST', '/v1/projects', { body });
    expectError(reply, 400, 'VALIDATION_FAILED', message, field);
    expect(await projectRows()).toBe(before);
  });

  it('the same body is accepted once it is valid (the table is not rejecting everything)', async () => {
    const reply = await admin('POST', '/v1/projects', {
      body: { ...valid, webhook: { provider: 'gitlab', secret: newSecret() } },
    });
    expect(reply.status, reply.text).toBe(201);
  });

  it.each([
    ['empty allowedRefs', { allowedRefs: [] }, 'allowedRefs'],
    ['a bad name', { name: 'Bad Name' }, 'name'],
    ['an unknown field', { repo: REPOSITORY }, 'repo'],
    ['a short secret', { webhook: { provider: 'github', secret: 'short' } }, 'webhook.secret'],
    ['a local repository', { repository: '/srv/git/wallet.git' }, 'repository'],
  ])('PATCH with %s → 400; the project is unchanged', async (_case, body, field) => {
    const secret = newSecret();
    const name = `patch-${randomUUID().slice(0, 8)}`;
    const created = await createProject({
      name,
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'github', secret },
    });
    const sealed = await sealedSecret(name);
    const reply = await admin('PATCH', `/v1/projects/${name}`, { body });
    expectError(reply, 400, 'VALIDATION_FAILED', new RegExp(`^${field.replace('.', '\\.')}: `), field);
    expect((await admin('GET', `/v1/projects/${name}`)).body).toEqual(created);
    expect(await sealedSecret(name)).toBe(sealed);
  });

  it.each([
    ['POST', '/v1/projects'],
    ['PATCH', '/v1/projects/wallet'],
  ])('%s %s that is not JSON → 415; invalid JSON → 400', async (method, path) => {
    const form = await admin(method, path, {
      raw: 'name=x&repository=https://git.example.com/x.git',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 415, 'UNSUPPORTED_MEDIA_TYPE', /as application\/json/);
    const text = await admin(method, path, { raw: JSON.stringify(valid), headers: { 'content-type': 'text/plain' } });
    expectError(text, 415, 'UNSUPPORTED_MEDIA_TYPE', /as application\/json/);
    const broken = await admin(method, path, { raw: '{"name": "x", ' });
    expectError(broken, 400, 'VALIDATION_FAILED', /^body is not valid JSON/, 'body');
  });
});

describe('only admin tokens manage projects', () => {
  const ENDPOINTS: [string, string, unknown?][] = [
    ['POST', '/v1/projects', { name: 'by-non-admin', repository: REPOSITORY, allowedRefs: ['refs/heads/main'] }],
    ['GET', '/v1/projects'],
    ['GET', '/v1/projects/wallet'],
    ['PATCH', '/v1/projects/wallet', { allowedRefs: ['refs/heads/*'] }],
    ['DELETE', '/v1/projects/wallet'],
  ];

  it.each(ENDPOINTS)(
    '%s %s: every non-admin token → 403, no token → 401; nothing changes',
    async (method, path, body) => {
      const before = await admin('GET', '/v1/projects');
      for (const token of Object.values(tokens)) {
        expectError(await call(method, path, { token, body }), 403, 'FORBIDDEN', /lacks the 'admin' scope/);
      }
      const anonymous = await call(method, path, { body });
      expectError(anonymous, 401, 'UNAUTHENTICATED', /missing bearer token/);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expectError(
        await call(method, path, { body, token: 'sbt_this_token_was_never_issued_000000' }),
        401,
        'UNAUTHENTICATED',
        /unknown or revoked token/,
      );
      expect((await admin('GET', '/v1/projects')).body).toEqual(before.body);
    },
  );

  it('the project endpoints are in the OpenAPI document', async () => {
    const document = JSON.parse((await call('GET', '/openapi.json')).text) as { paths: Record<string, object> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/projects', '/v1/projects/{name}', '/v1/webhooks/{provider}/{project}']),
    );
  });
});

describe('nothing stores a plaintext secret', () => {
  it('no column of any project row holds a secret this file sent', async () => {
    expect(secretsSent.length).toBeGreaterThan(5);
    const dump = JSON.stringify((await db.query('SELECT * FROM projects')).rows);
    for (const secret of secretsSent) expect(dump).not.toContain(secret);
    const sealed = (
      await db.query<{ s: string }>(
        'SELECT webhook_secret_sealed AS s FROM projects WHERE webhook_secret_sealed IS NOT NULL',
      )
    ).rows;
    expect(sealed.length).toBeGreaterThan(0);
    for (const { s } of sealed) expect(s).toMatch(/^v1\./);
  });
});
