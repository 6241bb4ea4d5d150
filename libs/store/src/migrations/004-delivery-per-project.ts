import type { Migration } from './migration';

/** Delivery ids are unique per project: the same forge id sent to two projects is two deliveries. */
export const migration004DeliveryPerProject: Migration = {
  version: 4,
  name: 'delivery-per-project',
  statements: [
    `ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey`,
    `ALTER TABLE webhook_deliveries ADD PRIMARY KEY (project_id, provider, delivery_id)`,
  ],
};
