import type { Store } from '@secure-build/store';

import { invalidField, ServiceError } from '../service.error';

const DIGEST = /^sha256:([0-9a-f]{64})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Serves stored Sigstore bundles, byte for byte as the worker signed them. */
export class ProvenanceService {
  constructor(private readonly store: Store) {}

  /** The bundle of a succeeded build. */
  async byBuild(buildId: string): Promise<{ bundleJson: string; mediaType: string }> {
    const bundle = UUID.test(buildId) ? await this.store.bundles.get(buildId.toLowerCase()) : undefined;
    if (bundle) return bundle;
    const build = UUID.test(buildId) ? await this.store.builds.get(buildId.toLowerCase()) : undefined;
    if (!build) throw new ServiceError('NOT_FOUND', `build ${buildId} not found`);
    throw new ServiceError('NOT_FOUND', `build ${buildId} has no provenance (status ${build.status})`);
  }

  /** Every bundle whose subject carries the digest (`sha256:<hex>`). */
  async bySubject(
    digest: string,
  ): Promise<{ digest: string; attestations: { buildId: string; createdAt: string; bundle: unknown }[] }> {
    const match = DIGEST.exec(digest);
    if (!match) throw invalidField('digest', 'must be sha256:<64 lower-case hex>');
    const found = await this.store.bundles.findBySubject('sha256', match[1]);
    if (found.length === 0) throw new ServiceError('NOT_FOUND', `no attestation has subject ${digest}`);
    return {
      digest,
      attestations: found.map((f) => ({
        buildId: f.buildId,
        createdAt: f.createdAt.toISOString(),
        bundle: JSON.parse(f.bundleJson) as unknown,
      })),
    };
  }
}
