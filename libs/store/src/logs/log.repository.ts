import type { SqlClient } from '../sql/sql-client';
import { isUuid, toNumber } from '../sql/sql-value.util';
import { StoreError } from '../store.error';

/** One stored piece of build output. */
export interface LogChunk {
  id: number;
  attempt: number;
  chunk: string;
}

/**
 * Append-only build logs read by id for live polling. Ids increase in commit order as long as one
 * writer appends to a build at a time (the worker running it), which the queue guarantees.
 */
export interface LogRepository {
  /** Stores a chunk and returns its id; an unknown build throws StoreError('NOT_FOUND'). */
  append(buildId: string, attempt: number, chunk: string): Promise<number>;
  /** Chunks with id > afterId in id order, at most `limit`. */
  read(buildId: string, afterId: number, limit: number): Promise<LogChunk[]>;
}

/** LogRepository on a SqlClient. */
export class SqlLogRepository implements LogRepository {
  constructor(private readonly sql: SqlClient) {}

  async append(buildId: string, attempt: number, chunk: string): Promise<number> {
    const notFound = () => new StoreError('NOT_FOUND', 'build not found', { details: { buildId } });
    if (!isUuid(buildId)) throw notFound();
    // PostgreSQL text cannot hold NUL; build output occasionally does.
    const text = chunk.replaceAll('\u0000', '\uFFFD');
    const result = await this.sql.query<{ id: unknown }>(
      `INSERT INTO build_log_chunks (build_id, attempt, chunk)
       SELECT id, $2, $3 FROM builds WHERE id = $1
       RETURNING id`,
      [buildId, attempt, text],
    );
    const row = result.rows[0];
    if (!row) throw notFound();
    return toNumber(row.id);
  }

  async read(buildId: string, afterId: number, limit: number): Promise<LogChunk[]> {
    if (!isUuid(buildId)) return [];
    const result = await this.sql.query<{ id: unknown; attempt: unknown; chunk: string }>(
      `SELECT id, attempt, chunk FROM build_log_chunks
       WHERE build_id = $1 AND id > $2
       ORDER BY id
       LIMIT $3`,
      [buildId, afterId, limit],
    );
    return result.rows.map((row) => ({ id: toNumber(row.id), attempt: toNumber(row.attempt), chunk: row.chunk }));
  }
}
