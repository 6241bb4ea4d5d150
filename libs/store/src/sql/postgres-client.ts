import { Pool, type PoolClient } from 'pg';

import type { SqlClient, SqlResult } from './sql-client';

/** Options of the pg.Pool-backed client. */
export interface PostgresClientOptions {
  /** Upper bound of pooled connections (default 10). */
  maxConnections?: number;
  /** Milliseconds to wait for a new connection before failing (default 10 000; pg's own default waits forever). */
  connectTimeoutMs?: number;
}

/** SqlClient on a node-postgres pool; each transaction holds one pooled connection until it ends. */
export function createPostgresClient(url: string, options: PostgresClientOptions = {}): SqlClient {
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // An idle pooled connection dropped by the server emits 'error'; without a listener it would crash the process.
  pool.on('error', () => undefined);
  return {
    query: (sql, params) => run(pool, sql, params),
    transaction: async (fn) => {
      const connection = await pool.connect();
      try {
        await connection.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const result = await fn(connectionClient(connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    close: () => pool.end(),
  };
}

function connectionClient(connection: PoolClient): SqlClient {
  return {
    query: (sql, params) => run(connection, sql, params),
    transaction: () => Promise.reject(new Error('nested transactions are not supported')),
    close: () => Promise.reject(new Error('close the outer client, not a transaction')),
  };
}

async function run<T>(target: Pool | PoolClient, sql: string, params?: unknown[]): Promise<SqlResult<T>> {
  const result = await target.query(sql, params);
  return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
}
