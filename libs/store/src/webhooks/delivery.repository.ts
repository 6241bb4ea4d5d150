import { Batcher } from '@secure-build/common';

import type { CreateBuildInput } from '../builds/build.type';
import {
  NEW_BUILD_COLUMNS,
  NEW_BUILD_VALUES,
  newBuildRecordset,
  newBuildRow,
  type NewBuildRow,
} from '../builds/new-build-row';
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

/** A delivery that claims its id together with the build it creates. */
interface BuildDeliveryRow extends NewBuildRow {
  provider: string;
  delivery_id: string;
}

/** SQL implementation of {@link DeliveryRepository}. */
export class SqlDeliveryRepository implements DeliveryRepository {
  // Concurrent deliveries share one statement (group commit), as build submissions do.
  private readonly claims = new Batcher<BuildDeliveryRow, boolean>((rows) => this.claimMany(rows), {
    maxBatch: 256,
    maxInFlight: 1,
  });

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
    const row: BuildDeliveryRow = {
      ...newBuildRow({ ...input.decision.build, projectId: input.projectId }),
      provider: input.provider,
      delivery_id: input.deliveryId,
    };
    if (await this.claims.submit(row)) return { duplicate: false, outcome: 'build', buildId: row.id };
    const found = await this.existing(key);
    // Our own claim, committed by a batch whose answer was lost and then retried alone: not a redelivery.
    if (found.buildId === row.id) return { duplicate: false, outcome: 'build', buildId: row.id };
    return found;
  }

  /**
   * One statement for many deliveries: each delivery row claims its id (a concurrent twin, in this
   * batch or another, inserts nothing), and only claimed deliveries insert their build. Foreign keys
   * are checked at the end of the statement. Answers, per row, whether it claimed its id.
   */
  private async claimMany(rows: readonly BuildDeliveryRow[]): Promise<boolean[]> {
    const created = await this.sql.query(
      `WITH x AS MATERIALIZED (
         SELECT * FROM ${newBuildRecordset('$1', 'provider text, delivery_id text')}
       ), claimed AS (
         INSERT INTO webhook_deliveries (project_id, provider, delivery_id, outcome, build_id)
         SELECT project_id, provider, delivery_id, 'build', id FROM x
         ON CONFLICT (project_id, provider, delivery_id) DO NOTHING
         RETURNING build_id
       )
       INSERT INTO builds (${NEW_BUILD_COLUMNS})
       SELECT ${NEW_BUILD_VALUES} FROM x JOIN claimed ON claimed.build_id = x.id
       RETURNING id`,
      [JSON.stringify(rows)],
    );
    const claimed = new Set(created.rows.map((r) => String(r.id)));
    return rows.map((row) => claimed.has(row.id));
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
