import type { Migration } from './migration';

/** Pending IBM SE attestation requests (their secrets sealed), shared by every API instance. */
export const migration005SeRequests: Migration = {
  version: 5,
  name: 'se-requests',
  statements: [
    `CREATE TABLE se_requests (
      id uuid PRIMARY KEY,
      secrets_sealed text NOT NULL,
      expires_at timestamptz(3) NOT NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now()
    )`,
  ],
};
