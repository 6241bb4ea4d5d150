import { computeTeeBinding, EvidenceProvider, TeeEvidence } from '@secure-build/attestation';
import { BuilderSigningKey, BuilderTee, generateBuilderSigningKey } from '@secure-build/provenance';

import { BuildError } from './build-error';

/**
 * What a worker establishes once at start: a signing key born in the TEE and evidence whose
 * REPORTDATA binds that key (docs/provenance.md, "binding"). Every bundle it signs carries both.
 */
export interface BuilderIdentity {
  readonly tee: BuilderTee;
  readonly key: BuilderSigningKey;
  readonly evidence: TeeEvidence;
  readonly reportData: Buffer;
  readonly workerRef?: string;
  /** where per-build evidence comes from (the same TEE that produced `evidence`) */
  readonly provider: EvidenceProvider;
}

/** Generates the in-memory key and obtains evidence binding it from the given provider. */
export async function establishBuilderIdentity(
  provider: EvidenceProvider,
  workerRef?: string,
): Promise<BuilderIdentity> {
  const key = generateBuilderSigningKey();
  const reportData = computeTeeBinding({
    purpose: 'worker-key',
    signingKeySpkiDer: key.spkiDer,
    ...(workerRef ? { workerRef } : {}),
  });
  let evidence: TeeEvidence;
  try {
    evidence = await provider.collect(reportData, {
      signingKeySpkiDer: key.spkiDer,
      ...(workerRef ? { workerRef } : {}),
    });
  } catch (error) {
    throw new BuildError(
      'EVIDENCE_UNAVAILABLE',
      `could not obtain ${provider.teeType} evidence: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const tee: BuilderTee =
    evidence.format === 'ibm-se-attestation-result'
      ? evidence.simulated
        ? 'simulated-ibm-se'
        : 'ibm-se'
      : evidence.simulated
        ? 'simulated-tdx'
        : 'tdx';
  return Object.freeze({ tee, key, evidence, reportData, provider, ...(workerRef ? { workerRef } : {}) });
}
