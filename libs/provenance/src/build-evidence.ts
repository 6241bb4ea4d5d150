import { createHash } from 'node:crypto';

import { canonicalJson, sha256Hex } from '@secure-build/common';

import { BYPRODUCT_BUILD_EVIDENCE, IN_TOTO_PAYLOAD_TYPE } from './constants';
import type { ProvenanceStatement, ResourceDescriptor } from './statement.types';

/**
 * Per-build evidence: a second quote whose REPORTDATA binds this very statement. The quote cannot
 * sit inside the bytes it binds, so the binding covers the statement *without* its
 * `tee-evidence-build` byproduct: `provenanceDigest = sha256(PAE(payloadType, canonicalJson(S0)))`.
 * Our payloads are canonical JSON, so a verifier rebuilds S0 exactly by removing that byproduct.
 */
export function buildEvidenceDigest(statementWithoutBuildEvidence: ProvenanceStatement): string {
  const payload = Buffer.from(canonicalJson(statementWithoutBuildEvidence), 'utf8');
  const type = Buffer.from(IN_TOTO_PAYLOAD_TYPE, 'utf8');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
  return `sha256:${createHash('sha256').update(pae).digest('hex')}`;
}

/** Adds the per-build quote to a statement (see {@link buildEvidenceDigest}). */
export function attachBuildEvidence(
  statement: ProvenanceStatement,
  evidence: { mediaType: string; bytes: Buffer; collateral: unknown; provenanceDigest: string },
): ProvenanceStatement {
  const descriptor: ResourceDescriptor = {
    name: BYPRODUCT_BUILD_EVIDENCE,
    digest: { sha256: sha256Hex(evidence.bytes) },
    content: evidence.bytes.toString('base64'),
    mediaType: evidence.mediaType,
    annotations: {
      binding: { purpose: 'provenance', provenanceDigest: evidence.provenanceDigest },
      collateral: evidence.collateral,
    },
  };
  const byproducts = [...(statement.predicate.runDetails.byproducts ?? []), descriptor];
  return {
    ...statement,
    predicate: { ...statement.predicate, runDetails: { ...statement.predicate.runDetails, byproducts } },
  };
}

/** The statement as it was before the per-build quote was attached. */
export function withoutBuildEvidence(statement: ProvenanceStatement): ProvenanceStatement {
  const byproducts = (statement.predicate.runDetails.byproducts ?? []).filter(
    (b) => b?.name !== BYPRODUCT_BUILD_EVIDENCE,
  );
  return {
    ...statement,
    predicate: { ...statement.predicate, runDetails: { ...statement.predicate.runDetails, byproducts } },
  };
}
