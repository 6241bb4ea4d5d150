import type { SqlClient } from '../sql/sql-client';
import { toDate } from '../sql/sql-value.util';

/** A builder signing key reported by a worker, with its attestation evidence. */
export interface BuilderKeyInput {
  /** Lower-case hex SHA-256 of the public key (DER); the identity of the row. */
  keySha256: string;
  publicKeyPem: string;
  teeType: string;
  builderId: string;
  /** JSON-serializable attestation evidence. */
  evidence: unknown;
  workerId: string;
  /** the service's verdict on the evidence (default 'unassessed') */
  status?: 'unassessed' | 'trusted' | 'rejected';
  /** JSON details of that verdict: TEE, TCB status, measurements, failed checks */
  assessment?: unknown;
}

/** A known builder key with when it was first and last seen. */
export interface BuilderKeyRecord extends BuilderKeyInput {
  status: 'unassessed' | 'trusted' | 'rejected';
  assessment: unknown;
  firstSeen: Date;
  lastSeen: Date;
}

/** Registry of builder signing keys. */
export interface BuilderRepository {
  /** Inserts or refreshes a key; first_seen is set once, last_seen every time. */
  upsert(input: BuilderKeyInput): Promise<BuilderKeyRecord>;
  /** Bumps last_seen; false for an unknown key. */
  touch(keySha256: string): Promise<boolean>;
  /** Every known key, most recently seen first. */
  list(): Promise<BuilderKeyRecord[]>;
}

const COLUMNS =
  'key_sha256, public_key_pem, tee_type, builder_id, evidence, worker_id, status, assessment, first_seen, last_seen';

/** BuilderRepository on a SqlClient. */
export class SqlBuilderRepository implements BuilderRepository {
  constructor(private readonly sql: SqlClient) {}

  async upsert(input: BuilderKeyInput): Promise<BuilderKeyRecord> {
    // Evidence travels as text and is cast in SQL, so neither driver re-serializes a JSON string.
    const result = await this.sql.query(
      `INSERT INTO builder_keys (key_sha256, public_key_pem, tee_type, builder_id, evidence, worker_id, status, assessment)
       VALUES ($1, $2, $3, $4, ($5::text)::jsonb, $6, $7, ($8::text)::jsonb)
       ON CONFLICT (key_sha256) DO UPDATE
       SET public_key_pem = excluded.public_key_pem, tee_type = excluded.tee_type, builder_id = excluded.builder_id,
           evidence = excluded.evidence, worker_id = excluded.worker_id, status = excluded.status,
           assessment = excluded.assessment, last_seen = now()
       RETURNING ${COLUMNS}`,
      [
        input.keySha256.toLowerCase(),
        input.publicKeyPem,
        input.teeType,
        input.builderId,
        JSON.stringify(input.evidence ?? null),
        input.workerId,
        input.status ?? 'unassessed',
        JSON.stringify(input.assessment ?? null),
      ],
    );
    return toBuilderKeyRecord(result.rows[0]);
  }

  async touch(keySha256: string): Promise<boolean> {
    const result = await this.sql.query('UPDATE builder_keys SET last_seen = now() WHERE key_sha256 = $1', [
      keySha256.toLowerCase(),
    ]);
    return result.rowCount > 0;
  }

  async list(): Promise<BuilderKeyRecord[]> {
    const result = await this.sql.query(`SELECT ${COLUMNS} FROM builder_keys ORDER BY last_seen DESC, key_sha256`);
    return result.rows.map(toBuilderKeyRecord);
  }
}

function toBuilderKeyRecord(row: Record<string, unknown>): BuilderKeyRecord {
  return {
    keySha256: String(row.key_sha256),
    publicKeyPem: String(row.public_key_pem),
    teeType: String(row.tee_type),
    builderId: String(row.builder_id),
    evidence: row.evidence,
    workerId: String(row.worker_id),
    status: row.status as BuilderKeyRecord['status'],
    assessment: row.assessment ?? null,
    firstSeen: toDate(row.first_seen),
    lastSeen: toDate(row.last_seen),
  };
}
