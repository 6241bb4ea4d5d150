import { PGlite, type Transaction } from '@electric-sql/pglite';

import { Mutex } from './mutex';
import type { SqlClient, SqlResult } from './sql-client';

/**
 * SqlClient on embedded PGlite (`dataDir` undefined = in-memory). PGlite has a single session, so
 * every statement and transaction goes through one mutex: concurrent callers never interleave inside
 * a transaction, and row locks degenerate to that mutex.
 */
export async function createPgliteClient(dataDir: string | undefined): Promise<SqlClient> {
  const db = await PGlite.create(dataDir);
  const mutex = new Mutex();
  return {
    query: (sql, params) => mutex.run(() => run(db, sql, params)),
    transaction: (fn) => mutex.run(() => db.transaction((tx) => fn(transactionClient(tx)))),
    close: () => mutex.run(() => db.close()),
  };
}

function transactionClient(tx: Transaction): SqlClient {
  return {
    query: (sql, params) => run(tx, sql, params),
    transaction: () => Promise.reject(new Error('nested transactions are not supported')),
    close: () => Promise.reject(new Error('close the outer client, not a transaction')),
  };
}

async function run<T>(target: PGlite | Transaction, sql: string, params?: unknown[]): Promise<SqlResult<T>> {
  const result = await target.query<T>(sql, params);
  return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
}
