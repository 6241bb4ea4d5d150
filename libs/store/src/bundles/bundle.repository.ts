import type { SqlClient } from '../sql/sql-client';
import { isUuid, toDate } from '../sql/sql-value.util';

/** A stored provenance bundle, exactly as the worker serialized it. */
export interface StoredBundle {
  bundleJson: string;
  mediaType: string;
}

/** A bundle found through one of its subjects. */
export interface SubjectBundle extends StoredBundle {
  buildId: string;
  createdAt: Date;
}

/** Read access to provenance bundles (written by BuildRepository.complete). */
export interface BundleRepository {
  /** The bundle of a build, or undefined. */
  get(buildId: string): Promise<StoredBundle | undefined>;
  /** Bundles attesting the artifact digest, oldest first; the digest is compared lower-case. */
  findBySubject(algorithm: string, digest: string): Promise<SubjectBundle[]>;
}

/** BundleRepository on a SqlClient. */
export class SqlBundleRepository implements BundleRepository {
  constructor(private readonly sql: SqlClient) {}

  async get(buildId: string): Promise<StoredBundle | undefined> {
    if (!isUuid(buildId)) return undefined;
    const result = await this.sql.query<{ bundle_json: string; media_type: string }>(
      'SELECT bundle_json, media_type FROM bundles WHERE build_id = $1',
      [buildId],
    );
    const row = result.rows[0];
    return row ? { bundleJson: row.bundle_json, mediaType: row.media_type } : undefined;
  }

  async findBySubject(algorithm: string, digest: string): Promise<SubjectBundle[]> {
    const result = await this.sql.query<{
      build_id: string;
      bundle_json: string;
      media_type: string;
      created_at: Date;
    }>(
      `SELECT b.build_id, b.bundle_json, b.media_type, b.created_at
       FROM bundle_subjects s JOIN bundles b ON b.build_id = s.build_id
       WHERE s.algorithm = $1 AND s.digest = $2
       ORDER BY b.created_at, b.build_id`,
      [algorithm.toLowerCase(), digest.toLowerCase()],
    );
    return result.rows.map((row) => ({
      buildId: row.build_id,
      bundleJson: row.bundle_json,
      mediaType: row.media_type,
      createdAt: toDate(row.created_at),
    }));
  }
}
