import type { Migration } from './migration';

/** Where a build's image was pushed and the digest of the provenance artifact attached to it. */
export const migration006PublishedImages: Migration = {
  version: 6,
  name: 'published-images',
  statements: [
    `ALTER TABLE builds ADD COLUMN published_reference text`,
    `ALTER TABLE builds ADD COLUMN attestation_digest text`,
  ],
};
