import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPgliteClient } from '../sql/pglite-client';
import { createPostgresClient } from '../sql/postgres-client';
import { createThrowawayDatabase, OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';
import { migrate } from './migrate';
import { MIGRATIONS } from './migrations';

const EXPECTED_TABLES = [
  'api_tokens',
  'build_log_chunks',
  'build_stage_events',
  'builder_keys',
  'builds',
  'bundle_subjects',
  'bundles',
  'projects',
  'schema_migrations',
  'se_requests',
  'webhook_deliveries',
];

describe.each(TEST_BACKENDS)('migrate on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open(); // already migrated once
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  it('creates every table and records each version once', async () => {
    const tables = await db.sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(EXPECTED_TABLES);
    const versions = await db.sql.query<{ version: number; name: string; applied_at: Date }>(
      'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
    );
    expect(versions.rows.map((r) => [r.version, r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    expect(versions.rows[0].applied_at).toBeInstanceOf(Date);
  });

  it('is idempotent', async () => {
    expect(await migrate(db.sql)).toEqual({ applied: [] });
    expect(await migrate(db.sql)).toEqual({ applied: [] });
    const count = await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(count.rows[0].n).toBe(MIGRATIONS.length);
  });

  it('applies only migrations newer than the recorded ones, in version order', async () => {
    const extra = [
      { version: 1_000_002, name: 'second', statements: ['INSERT INTO probe VALUES (2)'] },
      {
        version: 1_000_001,
        name: 'first',
        statements: ['CREATE TABLE probe (n integer)', 'INSERT INTO probe VALUES (1)'],
      },
    ];
    expect(await migrate(db.sql, [...MIGRATIONS, ...extra])).toEqual({ applied: [1_000_001, 1_000_002] });
    expect(await migrate(db.sql, [...MIGRATIONS, ...extra])).toEqual({ applied: [] });
    expect((await db.sql.query<{ n: number }>('SELECT n FROM probe ORDER BY n')).rows).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('rolls back a failing migration entirely', async () => {
    const broken = { version: 1_000_010, name: 'broken', statements: ['CREATE TABLE half (n integer)', 'SELECT nope'] };
    await expect(migrate(db.sql, [...MIGRATIONS, broken])).rejects.toThrow();
    const half = await db.sql.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half'`);
    expect(half.rows).toHaveLength(0);
    const recorded = await db.sql.query('SELECT 1 FROM schema_migrations WHERE version = $1', [broken.version]);
    expect(recorded.rows).toHaveLength(0);
  });
});

describe('migrate concurrency', () => {
  it(
    'lets two processes migrate one fresh PostgreSQL database at once',
    async () => {
      const database = await createThrowawayDatabase();
      const a = createPostgresClient(database.url);
      const b = createPostgresClient(database.url);
      try {
        const results = await Promise.all([migrate(a), migrate(b), migrate(a), migrate(b)]);
        const applied = results.flatMap((r) => r.applied);
        expect(applied.sort()).toEqual(MIGRATIONS.map((m) => m.version).sort());
        const count = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
        expect(count.rows[0].n).toBe(MIGRATIONS.length);
      } finally {
        await a.close();
        await b.close();
        await database.drop();
      }
    },
    OPEN_TIMEOUT_MS,
  );

  it(
    'serialises concurrent migrate calls on one PGlite client',
    async () => {
      const client = await createPgliteClient(undefined);
      try {
        const results = await Promise.all([migrate(client), migrate(client)]);
        expect(results.flatMap((r) => r.applied)).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await client.close();
      }
    },
    OPEN_TIMEOUT_MS,
  );
});
