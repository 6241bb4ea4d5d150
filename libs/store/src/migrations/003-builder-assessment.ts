import type { Migration } from './migration';

/** Each builder key carries the service's verdict on its evidence (trusted builders take builds). */
export const migration003BuilderAssessment: Migration = {
  version: 3,
  name: 'builder-assessment',
  statements: [
    `ALTER TABLE builder_keys ADD COLUMN status text NOT NULL DEFAULT 'unassessed'
      CHECK (status IN ('unassessed', 'trusted', 'rejected'))`,
    `ALTER TABLE builder_keys ADD COLUMN assessment jsonb NULL`,
  ],
};
