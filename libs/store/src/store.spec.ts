import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { openStore } from './store';
import { createThrowawayDatabase, OPEN_TIMEOUT_MS } from './testing/test-database';

const input = { repository: 'https://example.test/r.git', commit: 'a'.repeat(40), recipePath: 'build.yaml' };

describe('openStore', () => {
  it(
    'persists a PGlite dataDir across close and reopen',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sb-store-'));
      try {
        const first = await openStore({ dataDir: dir });
        expect(first.kind).toBe('pglite');
        const { build } = await first.builds.create(input);
        const { token } = await first.tokens.create({ name: 'persisted', scopes: ['admin'] });
        await first.close();

        const second = await openStore({ dataDir: dir });
        try {
          expect((await second.builds.get(build.id))?.id).toBe(build.id);
          expect((await second.tokens.authenticate(token))?.name).toBe('persisted');
          await second.ping();
        } finally {
          await second.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    OPEN_TIMEOUT_MS,
  );

  it(
    'opens an in-memory PGlite store when neither URL nor dataDir is set',
    async () => {
      const store = await openStore({});
      try {
        expect(store.kind).toBe('pglite');
        await store.ping();
        expect((await store.builds.create(input)).created).toBe(true);
      } finally {
        await store.close();
      }
    },
    OPEN_TIMEOUT_MS,
  );

  it(
    'opens and migrates PostgreSQL, twice without harm',
    async () => {
      const database = await createThrowawayDatabase();
      try {
        const [a, b] = await Promise.all([
          openStore({ databaseUrl: database.url }),
          openStore({ databaseUrl: database.url }),
        ]);
        expect(a.kind).toBe('postgres');
        await a.ping();
        const { build } = await a.builds.create(input);
        expect((await b.builds.get(build.id))?.id).toBe(build.id);
        await a.close();
        await b.close();
      } finally {
        await database.drop();
      }
    },
    OPEN_TIMEOUT_MS,
  );

  it('fails with DATABASE_UNAVAILABLE when PostgreSQL cannot be reached', async () => {
    await expect(openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' })).rejects.toMatchObject({
      name: 'StoreError',
      code: 'DATABASE_UNAVAILABLE',
    });
  });
});
