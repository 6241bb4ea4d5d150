import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

import { migrate } from '../migrations/migrate';
import { createPgliteClient } from '../sql/pglite-client';
import { createPostgresClient } from '../sql/postgres-client';
import type { SqlClient } from '../sql/sql-client';
import { createStore, type Store } from '../store';

/** Maintenance database of the PostgreSQL that the test suite uses (trust auth, as in CI). */
export const TEST_POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway PostgreSQL database. */
export interface ThrowawayDatabase {
  url: string;
  /** Drops the database, terminating leftover sessions. */
  drop(): Promise<void>;
}

/** Creates `sb_test_<random>` so parallel test files never share state; fails loudly when PostgreSQL is down. */
export async function createThrowawayDatabase(adminUrl = TEST_POSTGRES_ADMIN_URL): Promise<ThrowawayDatabase> {
  const name = `sb_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function withAdmin(adminUrl: string, fn: (admin: Client) => Promise<unknown>): Promise<void> {
  const admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is unreachable at ${adminUrl} (${(error as Error).message}); the store tests need a local ` +
        'PostgreSQL 15+ with trust auth for user postgres',
      { cause: error },
    );
  }
  try {
    await fn(admin);
  } finally {
    await admin.end();
  }
}

/** A migrated store on one backend plus its raw client, for repository tests. */
export interface TestStore {
  store: Store;
  sql: SqlClient;
  /** Closes the store and drops its database. */
  dispose(): Promise<void>;
}

/** One backend the repository tests run against. */
export interface TestBackend {
  kind: Store['kind'];
  /** Opens a fresh, migrated, empty store. */
  open(): Promise<TestStore>;
}

/** Both backends: every repository test runs on each (`describe.each(TEST_BACKENDS)`). */
export const TEST_BACKENDS: readonly TestBackend[] = [
  {
    kind: 'postgres',
    open: async () => {
      const database = await createThrowawayDatabase();
      const sql = createPostgresClient(database.url, { maxConnections: 8 });
      await migrate(sql);
      return {
        store: createStore('postgres', sql),
        sql,
        dispose: async () => {
          await sql.close();
          await database.drop();
        },
      };
    },
  },
  {
    kind: 'pglite',
    open: async () => {
      const sql = await createPgliteClient(undefined);
      await migrate(sql);
      return { store: createStore('pglite', sql), sql, dispose: () => sql.close() };
    },
  },
];

/** Hook timeout for opening a backend (PGlite compiles its WASM on first use). */
export const OPEN_TIMEOUT_MS = 60_000;
