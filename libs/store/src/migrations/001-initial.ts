import type { Migration } from './migration';

// Timestamps are timestamptz(3): millisecond precision round-trips exactly through JS Date, which
// keyset cursors (created_at, id) rely on.
/** Initial schema: builds, stage events, log chunks, bundles and subjects, builder keys, API tokens. */
export const migration001Initial: Migration = {
  version: 1,
  name: 'initial',
  statements: [
    `CREATE TABLE builds (
      id uuid PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
      repository text NOT NULL,
      commit_sha text NOT NULL,
      ref text NULL,
      recipe_path text NOT NULL,
      image_name text NULL,
      created_by uuid NULL,
      idempotency_key text NULL,
      request_hash text NULL,
      attempts integer NOT NULL DEFAULT 0,
      worker_id text NULL,
      manifest_digest text NULL,
      failure_code text NULL,
      failure_reason text NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      started_at timestamptz(3) NULL,
      finished_at timestamptz(3) NULL,
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    )`,
    // NULLS NOT DISTINCT: anonymous callers (created_by NULL) share one idempotency namespace.
    `CREATE UNIQUE INDEX builds_idempotency_key_uq ON builds (created_by, idempotency_key) NULLS NOT DISTINCT
      WHERE idempotency_key IS NOT NULL`,
    `CREATE INDEX builds_created_idx ON builds (created_at DESC, id DESC)`,
    `CREATE INDEX builds_repository_created_idx ON builds (repository, created_at DESC, id DESC)`,
    `CREATE INDEX builds_status_created_idx ON builds (status, created_at DESC, id DESC)`,
    `CREATE INDEX builds_commit_created_idx ON builds (commit_sha, created_at DESC, id DESC)`,
    `CREATE INDEX builds_unfinished_idx ON builds (updated_at) WHERE status IN ('queued', 'running')`,
    `CREATE TABLE build_stage_events (
      id bigserial PRIMARY KEY,
      build_id uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
      attempt integer NOT NULL,
      stage text NOT NULL,
      event text NOT NULL CHECK (event IN ('start', 'end')),
      duration_ms integer NULL,
      detail text NULL,
      at timestamptz(3) NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX build_stage_events_build_idx ON build_stage_events (build_id, id)`,
    `CREATE TABLE build_log_chunks (
      id bigserial PRIMARY KEY,
      build_id uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
      attempt integer NOT NULL,
      chunk text NOT NULL,
      at timestamptz(3) NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX build_log_chunks_build_idx ON build_log_chunks (build_id, id)`,
    `CREATE TABLE bundles (
      build_id uuid PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
      bundle_json text NOT NULL,
      media_type text NOT NULL,
      signing_key_sha256 text NOT NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE bundle_subjects (
      build_id uuid NOT NULL REFERENCES bundles (build_id) ON DELETE CASCADE,
      algorithm text NOT NULL,
      digest text NOT NULL,
      name text NULL,
      PRIMARY KEY (build_id, algorithm, digest)
    )`,
    `CREATE INDEX bundle_subjects_digest_idx ON bundle_subjects (algorithm, digest)`,
    `CREATE TABLE builder_keys (
      key_sha256 text PRIMARY KEY,
      public_key_pem text NOT NULL,
      tee_type text NOT NULL,
      builder_id text NOT NULL,
      evidence jsonb NOT NULL,
      worker_id text NOT NULL,
      first_seen timestamptz(3) NOT NULL DEFAULT now(),
      last_seen timestamptz(3) NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE api_tokens (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      token_sha256 text NOT NULL UNIQUE,
      scopes text[] NOT NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      last_used_at timestamptz(3) NULL,
      revoked_at timestamptz(3) NULL
    )`,
  ],
};
