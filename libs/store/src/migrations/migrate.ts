import type { SqlClient } from '../sql/sql-client';
import type { Migration } from './migration';
import { MIGRATIONS } from './migrations';

/**
 * Advisory lock key serialising migrations across processes sharing one database
 * (ASCII "sbmigrat"). Do not change: old and new processes must contend on the same key.
 */
const MIGRATION_LOCK_KEY = '8314328161553899892';

/** Versions applied by one `migrate` call (empty when the schema was already current). */
export interface MigrateResult {
  applied: number[];
}

/**
 * Applies pending migrations in version order inside one transaction holding a transaction-scoped
 * advisory lock, so concurrent starters wait and then find nothing left to do. Idempotent.
 */
export async function migrate(
  client: SqlClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrateResult> {
  return client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz(3) NOT NULL DEFAULT now()
      )`,
    );
    const done = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const doneVersions = new Set(done.rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (doneVersions.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return { applied };
  });
}
