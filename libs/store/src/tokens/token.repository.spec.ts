import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';
import { ALL_SCOPES, type Scope } from './scope';

describe.each(TEST_BACKENDS)('TokenRepository on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open();
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  it('generates sbt_ tokens stored only as SHA-256 hex', async () => {
    const { id, token } = await db.store.tokens.create({ name: 'ci', scopes: ['builds:write', 'builds:read'] });
    expect(token).toMatch(/^sbt_[A-Za-z0-9_-]{43}$/);
    const rows = await db.sql.query<Record<string, unknown>>('SELECT * FROM api_tokens WHERE id = $1', [id]);
    expect(rows.rows[0].token_sha256).toBe(createHash('sha256').update(token).digest('hex'));
    const dump = JSON.stringify((await db.sql.query('SELECT * FROM api_tokens')).rows);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice(4));
  });

  it('authenticates active tokens and records last use', async () => {
    const { id, token } = await db.store.tokens.create({ name: 'reader', scopes: ['provenance:read'] });
    expect(await db.store.tokens.authenticate(token)).toEqual({ id, name: 'reader', scopes: ['provenance:read'] });
    const listed = (await db.store.tokens.list()).find((t) => t.id === id);
    expect(listed?.lastUsedAt).toBeInstanceOf(Date);
    expect(await db.store.tokens.authenticate(`${token}x`)).toBeUndefined();
    expect(await db.store.tokens.authenticate('')).toBeUndefined();
  });

  it('revokes tokens', async () => {
    const { id, token } = await db.store.tokens.create({ name: 'temp', scopes: ['builds:read'] });
    expect(await db.store.tokens.revoke(id)).toBe(true);
    expect(await db.store.tokens.revoke(id)).toBe(false);
    expect(await db.store.tokens.revoke('00000000-0000-4000-8000-000000000000')).toBe(false);
    expect(await db.store.tokens.revoke('nope')).toBe(false);
    expect(await db.store.tokens.authenticate(token)).toBeUndefined();
    expect((await db.store.tokens.list()).find((t) => t.id === id)?.revokedAt).toBeInstanceOf(Date);
  });

  it('registers a configured token idempotently and keeps a revocation', async () => {
    const token = 'bootstrap-secret-from-config';
    const first = await db.store.tokens.createWithToken({ name: 'bootstrap', scopes: ['admin'], token });
    const again = await db.store.tokens.createWithToken({ name: 'renamed', scopes: ['builds:read'], token });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    expect(await db.store.tokens.authenticate(token)).toEqual({ id: first.id, name: 'bootstrap', scopes: ['admin'] });
    await db.store.tokens.revoke(first.id);
    expect((await db.store.tokens.createWithToken({ name: 'bootstrap', scopes: ['admin'], token })).created).toBe(
      false,
    );
    expect(await db.store.tokens.authenticate(token)).toBeUndefined();
  });

  it('lists tokens without secrets or hashes and counts active scopes', async () => {
    const before = await db.store.tokens.countActiveWithScope('admin');
    const a = await db.store.tokens.create({ name: 'admin-a', scopes: ['admin', 'admin'] });
    await db.store.tokens.create({ name: 'admin-b', scopes: [...ALL_SCOPES] });
    expect(await db.store.tokens.countActiveWithScope('admin')).toBe(before + 2);
    await db.store.tokens.revoke(a.id);
    expect(await db.store.tokens.countActiveWithScope('admin')).toBe(before + 1);

    const listed = await db.store.tokens.list();
    expect(listed.find((t) => t.id === a.id)?.scopes).toEqual(['admin']);
    for (const record of listed) {
      expect(Object.keys(record).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes']);
    }
    expect(JSON.stringify(listed)).not.toMatch(/[0-9a-f]{64}/);
  });

  it('rejects unknown scopes', async () => {
    await expect(db.store.tokens.create({ name: 'x', scopes: ['root' as Scope] })).rejects.toMatchObject({
      code: 'INVALID_SCOPE',
    });
  });
});
