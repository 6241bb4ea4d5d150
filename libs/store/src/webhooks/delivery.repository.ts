import { randomUUID } from 'node:crypto';

import type { CreateBuildInput } from '../builds/build.type';
import type { SqlClient } from '../sql/sql-client';
import { toDate } from '../sql/sql-value.util';

/** What the service decided for one webhook delivery. */
export interface DeliveryInput {
  provider: string;
  deliveryId: string;
  projectId: string;
  /** a build to create with the delivery, or why nothing is built */
  decision: { outcome: 'build'; build: CreateBuildInput } | { outcome: 'ignored'; reason: string };
}

/** Result of recording a delivery: new (with the build it created, if any) or a replay of an earlier one. */
export type DeliveryResult =
  | { duplicate: false; outcome: 'build' | 'ignored'; buildId: string | null }
  | { duplicate: true; outcome: 'build' | 'ignored'; buildId: string | null; reason: string | null; receivedAt: Date };

/** Webhook deliveries, deduplicated on (project, provider, delivery id). */
export interface DeliveryRepository {
  /**
   * Records a delivery and, for a build decision, creates the build in the same statement, so a
   * redelivery (same id) never creates a second build, even when two arrive at once.
   */
  record(input: DeliveryInput): Promise<DeliveryResult>;
}

/** SQL implementation of {@link DeliveryRepository}. */
export class SqlDeliveryRepository implements DeliveryRepository {
  constructor(private readonly sql: SqlClient) {}

  async record(input: DeliveryInput): Promise<DeliveryResult> {
    const key = [input.projectId, input.provider, input.deliveryId];
    if (input.decision.outcome === 'ignored') {
      const claimed = await this.sql.query(
        `INSERT INTO webhook_deliveries (project_id, provider, delivery_id, outcome, reason)
         VALUES ($1, $2, $3, 'ignored', $4)
         ON CONFLICT (project_id, provider, delivery_id) DO NOTHING
         RETURNING delivery_id`,
        [...key, input.decision.reason],
      );
      return claimed.rows.length === 1 ? { duplicate: false, outcome: 'ignored', buildId: null } : this.existing(key);
    }
    // One statement: the delivery row claims the id (a concurrent twin waits, then inserts nothing),
    // and the build row is inserted only when the claim succeeded. Foreign keys are checked at the end.
    const build = input.decision.build;
    const created = await this.sql.query(
      `WITH claimed AS (
         INSERT INTO webhook_deliveries (project_id, provider, delivery_id, outcome, build_id)
         VALUES ($1, $2, $3, 'build', $4)
         ON CONFLICT (project_id, provider, delivery_id) DO NOTHING
         RETURNING build_id
       ), inserted AS (
         INSERT INTO builds (id, status, repository, commit_sha, ref, recipe_path, image_name, project_id, signature_policy)
         SELECT claimed.build_id, 'queued', $5, $6, $7, $8, $9, $1, ($10::text)::jsonb FROM claimed
         RETURNING id
       )
       SELECT id FROM inserted`,
      [
        ...key,
        randomUUID(),
        build.repository,
        build.commit,
        build.ref ?? null,
        build.recipePath,
        build.imageName ?? null,
        build.signaturePolicy === undefined ? null : JSON.stringify(build.signaturePolicy),
      ],
    );
    return created.rows.length === 1
      ? { duplicate: false, outcome: 'build', buildId: String(created.rows[0].id) }
      : this.existing(key);
  }

  private async existing(key: unknown[]): Promise<DeliveryResult> {
    const result = await this.sql.query(
      'SELECT outcome, reason, build_id, received_at FROM webhook_deliveries WHERE project_id = $1 AND provider = $2 AND delivery_id = $3',
      key,
    );
    const row = result.rows[0];
    return {
      duplicate: true,
      outcome: row.outcome as 'build' | 'ignored',
      buildId: row.build_id === null ? null : String(row.build_id),
      reason: row.reason === null ? null : String(row.reason),
      receivedAt: toDate(row.received_at),
    };
  }
}
