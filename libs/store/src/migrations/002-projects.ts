import type { Migration } from './migration';

/** Projects (webhook-driven builds), webhook delivery dedupe, and the source policy each build carries. */
export const migration002Projects: Migration = {
  version: 2,
  name: 'projects',
  statements: [
    `CREATE TABLE projects (
      id uuid PRIMARY KEY,
      name text NOT NULL UNIQUE,
      repository text NOT NULL,
      allowed_refs text[] NOT NULL,
      recipe_path text NOT NULL,
      image_name text NULL,
      webhook_provider text NULL,
      webhook_secret_sealed text NULL,
      signature_policy jsonb NOT NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE webhook_deliveries (
      provider text NOT NULL,
      delivery_id text NOT NULL,
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      outcome text NOT NULL CHECK (outcome IN ('build', 'ignored')),
      reason text NULL,
      build_id uuid NULL REFERENCES builds (id) ON DELETE SET NULL,
      received_at timestamptz(3) NOT NULL DEFAULT now(),
      PRIMARY KEY (provider, delivery_id)
    )`,
    `ALTER TABLE builds ADD COLUMN project_id uuid NULL REFERENCES projects (id) ON DELETE SET NULL`,
    `ALTER TABLE builds ADD COLUMN signature_policy jsonb NULL`,
  ],
};
