import type { BuilderIdentity } from '@secure-build/build';
import { assessBuilderEvidence, BUILDER_IDS, BuilderAssessment, BuilderPolicy } from '@secure-build/provenance';
import type { Store } from '@secure-build/store';

/**
 * Verifies this worker's evidence against the builder policy and publishes key, evidence and verdict
 * (GET /v1/builders). Returns the verdict; an untrusted worker must not take builds.
 */
export async function registerBuilder(
  store: Store,
  identity: BuilderIdentity,
  workerId: string,
  policy: BuilderPolicy,
  now = new Date(),
): Promise<BuilderAssessment> {
  const assessment = assessBuilderEvidence({
    evidence: identity.evidence,
    signingKeySpkiDer: identity.key.spkiDer,
    workerRef: identity.workerRef,
    policy,
    now,
  });
  await store.builders.upsert({
    status: assessment.trusted ? 'trusted' : 'rejected',
    assessment,
    keySha256: identity.key.spkiSha256,
    publicKeyPem: identity.key.publicKeyPem,
    teeType: assessment.tee ?? identity.tee,
    builderId: BUILDER_IDS[identity.tee],
    workerId,
    evidence:
      identity.evidence.format === 'tdx-quote-v4'
        ? {
            format: identity.evidence.format,
            mediaType: identity.evidence.mediaType,
            quote: identity.evidence.quote.toString('base64'),
            collateral: identity.evidence.collateral,
            reportData: identity.reportData.toString('hex'),
          }
        : {
            format: identity.evidence.format,
            mediaType: identity.evidence.mediaType,
            result: identity.evidence.result,
            reportData: identity.reportData.toString('hex'),
          },
  });
  return assessment;
}
