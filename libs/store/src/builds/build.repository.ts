import { Batcher } from '@secure-build/common';

import type { SqlClient } from '../sql/sql-client';
import { isUuid, toNumber } from '../sql/sql-value.util';
import { StoreError } from '../store.error';
import { decodeBuildCursor, encodeBuildCursor } from './build-cursor';
import { BUILD_COLUMNS, toBuildRecord, toStageEvent } from './build-row';
import { NEW_BUILD_COLUMNS, NEW_BUILD_VALUES, newBuildRecordset, newBuildRow, type NewBuildRow } from './new-build-row';
import {
  BUILD_STATUSES,
  type BuildPage,
  type BuildRecord,
  type BuildStatus,
  type CancelBuildResult,
  type CompleteBuildInput,
  type CompleteBuildResult,
  type CreateBuildInput,
  type ListBuildsFilter,
  type StageEvent,
  type StageEventInput,
} from './build.type';

/** Maximum page size of BuildRepository.list. */
export const MAX_BUILD_PAGE_SIZE = 200;

/** Persistence of builds and their lifecycle transitions; every transition is a guarded single write. */
export interface BuildRepository {
  /** Inserts a queued build, or returns the one already created with the same (createdBy, idempotencyKey). */
  create(input: CreateBuildInput): Promise<{ build: BuildRecord; created: boolean }>;
  /** The build, or undefined (also for text that is not a uuid). */
  get(id: string): Promise<BuildRecord | undefined>;
  /** Newest-first keyset page; a malformed cursor throws StoreError('INVALID_CURSOR'). */
  list(filter: ListBuildsFilter): Promise<BuildPage>;
  /** queued|running → running for this attempt; undefined when the build is terminal or unknown. */
  start(id: string, input: { workerId: string; attempt: number }): Promise<BuildRecord | undefined>;
  /** Appends a stage boundary and bumps updated_at (a heartbeat for the sweeper). */
  recordStage(id: string, input: StageEventInput): Promise<void>;
  /** Stage events of a build in recording order. */
  stages(id: string): Promise<StageEvent[]>;
  /**
   * Stores the bundle and marks a running build succeeded, exactly once per build (row lock):
   * 'already-completed' when it already succeeded, 'not-running' when queued, failed, cancelled or unknown.
   */
  complete(id: string, input: CompleteBuildInput): Promise<CompleteBuildResult>;
  /** queued|running → failed; false when the build is terminal or unknown. */
  fail(id: string, input: { code: string; reason: string }): Promise<boolean>;
  /** running → queued, when a worker hands the job back (shutdown); false when not running. */
  requeue(id: string): Promise<boolean>;
  /** queued|running → cancelled. */
  cancel(id: string): Promise<CancelBuildResult>;
  /** Queued or running builds not updated since `olderThan`, stalest first (for the re-queue sweeper). */
  unfinished(olderThan: Date, limit: number): Promise<BuildRecord[]>;
  /** Number of builds per status (0 for absent statuses). */
  countByStatus(): Promise<Record<BuildStatus, number>>;
}

/** BuildRepository on a SqlClient. */
export class SqlBuildRepository implements BuildRepository {
  constructor(private readonly sql: SqlClient) {}

  // Concurrent submissions share one INSERT (group commit): one round trip and one WAL flush for many builds.
  private readonly inserts = new Batcher<NewBuildRow, BuildRecord | undefined>((rows) => this.insertMany(rows), {
    maxBatch: 256,
    maxInFlight: 1,
  });

  async create(input: CreateBuildInput): Promise<{ build: BuildRecord; created: boolean }> {
    const row = newBuildRow(input);
    const inserted = await this.inserts.submit(row);
    if (inserted) return { build: inserted, created: true };
    // Nothing inserted: either the row is ours already (a batch that committed but was retried item by
    // item) or another build holds the idempotency key. ON CONFLICT DO NOTHING + re-select is race-free:
    // a concurrent insert with the same key waits for the first one's commit and then inserts nothing.
    const existing = await this.sql.query(
      `SELECT ${BUILD_COLUMNS} FROM builds
       WHERE id = $1 OR (idempotency_key = $3 AND created_by IS NOT DISTINCT FROM $2)
       ORDER BY id = $1 DESC LIMIT 1`,
      [row.id, row.created_by, row.idempotency_key],
    );
    if (existing.rows.length !== 1) {
      throw new Error(
        row.idempotency_key === null
          ? 'build insert conflicted without an idempotency key'
          : 'idempotent build vanished after a conflicting insert',
      );
    }
    const build = toBuildRecord(existing.rows[0]);
    if (build.id === row.id) return { build, created: true };
    if (build.requestHash !== row.request_hash) {
      throw new StoreError('IDEMPOTENCY_CONFLICT', 'idempotency key was already used with a different request', {
        details: { buildId: build.id },
      });
    }
    return { build, created: false };
  }

  /** One statement for many rows; a row skipped by ON CONFLICT answers undefined. */
  private async insertMany(rows: readonly NewBuildRow[]): Promise<(BuildRecord | undefined)[]> {
    const inserted = await this.sql.query(
      `INSERT INTO builds (${NEW_BUILD_COLUMNS})
       SELECT ${NEW_BUILD_VALUES} FROM ${newBuildRecordset('$1')}
       ON CONFLICT DO NOTHING
       RETURNING ${BUILD_COLUMNS}`,
      [JSON.stringify(rows)],
    );
    const byId = new Map(inserted.rows.map((r) => [String(r.id), r]));
    return rows.map((row) => {
      const found = byId.get(row.id);
      return found ? toBuildRecord(found) : undefined;
    });
  }

  async get(id: string): Promise<BuildRecord | undefined> {
    if (!isUuid(id)) return undefined;
    const result = await this.sql.query(`SELECT ${BUILD_COLUMNS} FROM builds WHERE id = $1`, [id]);
    return result.rows.length === 1 ? toBuildRecord(result.rows[0]) : undefined;
  }

  async list(filter: ListBuildsFilter): Promise<BuildPage> {
    const { limit } = filter;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BUILD_PAGE_SIZE) {
      throw new StoreError('INVALID_LIMIT', `limit must be an integer in 1..${MAX_BUILD_PAGE_SIZE}`);
    }
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (condition: (placeholder: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    if (filter.repository !== undefined) add((p) => `repository = ${p}`, filter.repository);
    if (filter.status !== undefined) add((p) => `status = ${p}`, filter.status);
    if (filter.commit !== undefined) add((p) => `commit_sha = ${p}`, filter.commit);
    if (filter.cursor !== undefined) {
      const cursor = decodeBuildCursor(filter.cursor);
      params.push(cursor.createdAt, cursor.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const result = await this.sql.query(
      `SELECT ${BUILD_COLUMNS} FROM builds
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC
       LIMIT $${params.length}`,
      params,
    );
    const items = result.rows.slice(0, limit).map(toBuildRecord);
    const last = items[items.length - 1];
    const nextCursor =
      result.rows.length > limit && last ? encodeBuildCursor({ createdAt: last.createdAt, id: last.id }) : null;
    return { items, nextCursor };
  }

  async start(id: string, input: { workerId: string; attempt: number }): Promise<BuildRecord | undefined> {
    if (!isUuid(id)) return undefined;
    const result = await this.sql.query(
      `UPDATE builds
       SET status = 'running', started_at = COALESCE(started_at, now()), worker_id = $2, attempts = $3,
           updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running')
       RETURNING ${BUILD_COLUMNS}`,
      [id, input.workerId, input.attempt],
    );
    return result.rows.length === 1 ? toBuildRecord(result.rows[0]) : undefined;
  }

  async recordStage(id: string, input: StageEventInput): Promise<void> {
    const notFound = () => new StoreError('NOT_FOUND', 'build not found', { details: { buildId: id } });
    if (!isUuid(id)) throw notFound();
    const result = await this.sql.query(
      `WITH build AS (UPDATE builds SET updated_at = now() WHERE id = $1 RETURNING id)
       INSERT INTO build_stage_events (build_id, attempt, stage, event, duration_ms, detail)
       SELECT build.id, $2, $3, $4, $5, $6 FROM build`,
      [id, input.attempt, input.stage, input.event, input.durationMs ?? null, input.detail ?? null],
    );
    if (result.rowCount === 0) throw notFound();
  }

  async stages(id: string): Promise<StageEvent[]> {
    if (!isUuid(id)) return [];
    const result = await this.sql.query(
      `SELECT id, build_id, attempt, stage, event, duration_ms, detail, at
       FROM build_stage_events WHERE build_id = $1 ORDER BY id`,
      [id],
    );
    return result.rows.map(toStageEvent);
  }

  async complete(id: string, input: CompleteBuildInput): Promise<CompleteBuildResult> {
    if (!isUuid(id)) return 'not-running';
    return this.sql.transaction(async (tx) => {
      // The row lock serialises concurrent completes: the loser re-reads the committed status.
      const locked = await tx.query<{ status: BuildStatus }>('SELECT status FROM builds WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      const status = locked.rows[0]?.status;
      if (status === 'succeeded') return 'already-completed';
      if (status !== 'running') return 'not-running';
      await tx.query(
        `INSERT INTO bundles (build_id, bundle_json, media_type, signing_key_sha256) VALUES ($1, $2, $3, $4)`,
        [id, input.bundleJson, input.mediaType, input.signingKeySha256],
      );
      for (const subject of uniqueSubjects(input.subjects)) {
        await tx.query(`INSERT INTO bundle_subjects (build_id, algorithm, digest, name) VALUES ($1, $2, $3, $4)`, [
          id,
          subject.algorithm,
          subject.digest,
          subject.name ?? null,
        ]);
      }
      await tx.query(
        `UPDATE builds
         SET status = 'succeeded', manifest_digest = $2, finished_at = now(), updated_at = now(),
             failure_code = NULL, failure_reason = NULL, published_reference = $3, attestation_digest = $4
         WHERE id = $1`,
        [id, input.manifestDigest, input.published?.reference ?? null, input.published?.attestationDigest ?? null],
      );
      return 'completed';
    });
  }

  async fail(id: string, input: { code: string; reason: string }): Promise<boolean> {
    if (!isUuid(id)) return false;
    const result = await this.sql.query(
      `UPDATE builds
       SET status = 'failed', failure_code = $2, failure_reason = $3, finished_at = now(), updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running')`,
      [id, input.code, input.reason],
    );
    return result.rowCount > 0;
  }

  async requeue(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const result = await this.sql.query(
      `UPDATE builds SET status = 'queued', worker_id = NULL, updated_at = now() WHERE id = $1 AND status = 'running'`,
      [id],
    );
    return result.rowCount > 0;
  }

  async cancel(id: string): Promise<CancelBuildResult> {
    if (!isUuid(id)) return 'not-found';
    const result = await this.sql.query(
      `UPDATE builds SET status = 'cancelled', finished_at = now(), updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running')`,
      [id],
    );
    if (result.rowCount > 0) return 'cancelled';
    const exists = await this.sql.query('SELECT 1 FROM builds WHERE id = $1', [id]);
    return exists.rows.length > 0 ? 'already-terminal' : 'not-found';
  }

  async unfinished(olderThan: Date, limit: number): Promise<BuildRecord[]> {
    const result = await this.sql.query(
      `SELECT ${BUILD_COLUMNS} FROM builds
       WHERE status IN ('queued', 'running') AND updated_at < $1::timestamptz
       ORDER BY updated_at, id
       LIMIT $2`,
      [olderThan, limit],
    );
    return result.rows.map(toBuildRecord);
  }

  async countByStatus(): Promise<Record<BuildStatus, number>> {
    const result = await this.sql.query<{ status: BuildStatus; count: unknown }>(
      'SELECT status, count(*) AS count FROM builds GROUP BY status',
    );
    const counts = Object.fromEntries(BUILD_STATUSES.map((status) => [status, 0])) as Record<BuildStatus, number>;
    for (const row of result.rows) counts[row.status] = toNumber(row.count);
    return counts;
  }
}

// Digests are stored lower-case (lookups lower-case too); duplicates would violate the primary key.
function uniqueSubjects(subjects: CompleteBuildInput['subjects']): CompleteBuildInput['subjects'] {
  const seen = new Map<string, CompleteBuildInput['subjects'][number]>();
  for (const subject of subjects) {
    const normalised = { ...subject, algorithm: subject.algorithm.toLowerCase(), digest: subject.digest.toLowerCase() };
    const key = `${normalised.algorithm}:${normalised.digest}`;
    if (!seen.has(key)) seen.set(key, normalised);
  }
  return [...seen.values()];
}
