import type { SqlClient } from '../sql/sql-client';
import { isUuid, toDate } from '../sql/sql-value.util';

/** Pending SE attestation requests: stored sealed, taken exactly once. */
export interface SeRequestRepository {
  put(id: string, secretsSealed: string, expiresAt: Date): Promise<void>;
  /** Removes and returns the request (atomic: a second take of the same id gets nothing). */
  take(id: string): Promise<{ secretsSealed: string; expiresAt: Date } | undefined>;
  /** Deletes requests that expired before `now`; returns how many. */
  purgeExpired(now: Date): Promise<number>;
}

/** SQL implementation of {@link SeRequestRepository}. */
export class SqlSeRequestRepository implements SeRequestRepository {
  constructor(private readonly sql: SqlClient) {}

  async put(id: string, secretsSealed: string, expiresAt: Date): Promise<void> {
    await this.sql.query('INSERT INTO se_requests (id, secrets_sealed, expires_at) VALUES ($1, $2, $3)', [
      id,
      secretsSealed,
      expiresAt,
    ]);
  }

  async take(id: string): Promise<{ secretsSealed: string; expiresAt: Date } | undefined> {
    if (!isUuid(id)) return undefined;
    const result = await this.sql.query('DELETE FROM se_requests WHERE id = $1 RETURNING secrets_sealed, expires_at', [
      id,
    ]);
    const row = result.rows[0];
    return row ? { secretsSealed: String(row.secrets_sealed), expiresAt: toDate(row.expires_at) } : undefined;
  }

  async purgeExpired(now: Date): Promise<number> {
    return (await this.sql.query('DELETE FROM se_requests WHERE expires_at < $1', [now])).rowCount;
  }
}
