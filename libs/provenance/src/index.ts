export { attachBuildEvidence, buildEvidenceDigest, withoutBuildEvidence } from './build-evidence';
export { buildProvenanceStatement } from './build-statement';
export type { ProvenanceInput, RebuildOutcome } from './build-statement';
export {
  BUILDER_IDS,
  BYPRODUCT,
  BYPRODUCT_BUILD_EVIDENCE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  SECURE_BUILD_BUILD_TYPE,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  SLSA_PROVENANCE_V1,
} from './constants';
export type { BuilderTee } from './constants';
export { matchesPattern, parsePolicy, PolicyFileError } from './policy';
export type { VerificationPolicy } from './policy';
export { signProvenance, signStatement } from './sign-bundle';
export type { SignedProvenance } from './sign-bundle';
export { generateBuilderSigningKey, loadSigningKey } from './signing-key';
export type { BuilderSigningKey } from './signing-key';
export type {
  DigestSet,
  ProvenanceStatement,
  ResourceDescriptor,
  SlsaProvenanceV1,
  Statement,
} from './statement.types';
export type { ProvenanceSummary, VerificationCheck, VerificationReport } from './verification-report';
export { verifyProvenanceBundle } from './verify-bundle';
export type { VerifyProvenanceOptions } from './verify-bundle';
export { applyTdxPolicy, TCB_STATUS_ORDER } from './tee-policy';
export type { TeePolicy } from './tee-policy';
export { assessBuilderEvidence, defaultBuilderPolicy, parseBuilderPolicy } from './builder-policy';
export type { BuilderAssessment, BuilderPolicy } from './builder-policy';
