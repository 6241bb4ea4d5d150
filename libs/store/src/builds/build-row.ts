import { toDate, toDateOrNull, toNumber } from '../sql/sql-value.util';
import type { BuildRecord, BuildStatus, StageEvent } from './build.type';

/** Column list selected for BuildRecord (keeps SELECT and RETURNING in sync). */
export const BUILD_COLUMNS = `id, status, repository, commit_sha, ref, recipe_path, image_name, created_by,
  idempotency_key, request_hash, attempts, worker_id, manifest_digest, failure_code, failure_reason,
  project_id, signature_policy, published_reference, attestation_digest, created_at, started_at, finished_at,
  updated_at`;

/** Maps a builds row to a BuildRecord. */
export function toBuildRecord(row: Record<string, unknown>): BuildRecord {
  return {
    id: String(row.id),
    status: row.status as BuildStatus,
    repository: String(row.repository),
    commit: String(row.commit_sha),
    ref: nullableString(row.ref),
    recipePath: String(row.recipe_path),
    imageName: nullableString(row.image_name),
    createdBy: nullableString(row.created_by),
    idempotencyKey: nullableString(row.idempotency_key),
    requestHash: nullableString(row.request_hash),
    attempts: toNumber(row.attempts),
    workerId: nullableString(row.worker_id),
    manifestDigest: nullableString(row.manifest_digest),
    failureCode: nullableString(row.failure_code),
    failureReason: nullableString(row.failure_reason),
    projectId: nullableString(row.project_id),
    signaturePolicy: row.signature_policy ?? null,
    publishedReference: nullableString(row.published_reference),
    attestationDigest: nullableString(row.attestation_digest),
    createdAt: toDate(row.created_at),
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** Maps a build_stage_events row to a StageEvent. */
export function toStageEvent(row: Record<string, unknown>): StageEvent {
  return {
    id: toNumber(row.id),
    buildId: String(row.build_id),
    attempt: toNumber(row.attempt),
    stage: String(row.stage),
    event: row.event as StageEvent['event'],
    durationMs: row.duration_ms === null ? null : toNumber(row.duration_ms),
    detail: nullableString(row.detail),
    at: toDate(row.at),
  };
}

function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
