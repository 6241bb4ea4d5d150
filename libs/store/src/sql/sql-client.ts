/** Rows and affected-row count of one statement. */
export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

/**
 * Port to a PostgreSQL-compatible database. One statement per `query` call (extended protocol,
 * `$1` placeholders). timestamptz columns come back as `Date`, int8 as `string` (pg) or `number`
 * (PGlite): repositories normalise with `toNumber`.
 */
export interface SqlClient {
  /** Runs one statement with positional parameters. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<T>>;
  /**
   * Runs `fn` in one READ COMMITTED transaction, committed when `fn` resolves and rolled back when it
   * throws. Read committed plus explicit row locks (`SELECT … FOR UPDATE`) and unique constraints
   * is the chosen discipline: SERIALIZABLE would need a retry loop around every caller for 40001.
   * Inside `fn` use only `tx`, never the outer client (PGlite would deadlock, pg would escape the transaction).
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Releases connections; the client is unusable afterwards. */
  close(): Promise<void>;
}
