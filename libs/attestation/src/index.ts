// Binding between TEE evidence and the in-TEE signing key (attestation.md §8).
export { computeTeeBinding, TEE_BINDING_DOMAIN } from './binding/tee-binding';
export type { TeeBindingInput, TeeBindingPurpose } from './binding/tee-binding';

// Errors.
export { AttestationInputError, DerFormatError, QuoteFormatError } from './errors';

// TDX quote codec (§1).
export { INTEL_QE_VENDOR_ID, TDX_QUOTE_MAX_BYTES } from './tdx/constants';
export { describeTdxQuote } from './tdx/describe';
export type { CertificateSummary, TdxQuoteDescription } from './tdx/describe';
export { decodeQuoteFile } from './tdx/quote-file';
export { parseTdxQuote } from './tdx/quote-parser';
export { serializeSignedRegion, serializeTdxQuote } from './tdx/quote-serializer';
export type {
  PckCertChainData,
  QeReport,
  QeReportCertificationData,
  TdReportBody,
  TdxQuote,
  TdxQuoteHeader,
  TdxQuoteParts,
  TdxSignatureData,
} from './tdx/quote.types';

// PCK certificate extension.
export { decodeSgxExtension, encodeSgxExtension, SGX_EXTENSION_OID } from './pck/sgx-extension';
export type { SgxPckExtension } from './pck/sgx-extension';

// Collateral (§3).
export type { TcbStatus, TdxCollateral } from './collateral/collateral.types';
export type { TdQeIdentity, TdxTcbInfo } from './collateral/collateral.schema';

// DCAP verification (§3).
export { PRODUCTION_TRUST_ANCHORS, TRUST_ANCHORS } from './verify/default-trust-anchors';
export { INTEL_SGX_ROOT_CA_FINGERPRINT, INTEL_TRUST_ANCHOR } from './verify/trust-anchors';
export type { TrustAnchor, TrustAnchorName } from './verify/trust-anchors';
export { REQUIRED_TDX_CHECKS, verifyTdxQuote } from './verify/verify-tdx-quote';
export type { TdxVerificationReport, VerifyTdxQuoteInput } from './verify/verify-tdx-quote';
export type { VerificationCheck } from './verify/check-recorder';

// TDX simulator with the NOT-INTEL test PKI (§4).
export { SIMULATED_MEASUREMENTS, SIMULATED_QE, SIMULATED_TD } from './simulator/measurements';
export type { SimulatedMeasurementName } from './simulator/measurements';
export { SIMULATED_PLATFORM } from './simulator/platform';
export { createSimulatedTdxQuoter } from './simulator/simulated-quoter';
export type { SimulatedTdxQuoter, SimulatedTdxQuoterOptions } from './simulator/simulated-quoter';
export { SIMULATOR_ROOT_CA_FINGERPRINT, SIMULATOR_ROOT_CA_PEM, SIMULATOR_TRUST_ANCHOR } from './simulator/test-pki';

// Evidence provider port.
export { TDX_QUOTE_V4_MEDIA_TYPE } from './evidence/evidence.types';
export type {
  EvidenceProvider,
  EvidenceProviderTeeType,
  TdxQuoteEvidence,
  TeeEvidence,
} from './evidence/evidence.types';
export { createSimulatedTdxProvider } from './evidence/simulated-provider';

// IBM Secure Execution attestation (§5): request creation, measurement, exchange files, verification.
export {
  createAttestationRequest,
  decodeSeAttestationFlags,
  decryptArcb,
  encodeSeAttestationFlags,
  expectedAdditionalDataSize,
  openArcb,
  parseArcb,
  SE_ADDITIONAL_DATA_SIZES,
  SE_ARCB_VERSION,
  SE_MAI_HMAC_SHA512,
} from './se/arcb';
export type {
  CreateAttestationRequestInput,
  OpenedArcb,
  SeArcb,
  SeAttestationFlags,
  SeAttestationRequest,
  SeKeyslot,
  SeRequestFlags,
  SeRequestSecrets,
} from './se/arcb';
export {
  parseAttestationRequest,
  parseAttestationResponse,
  parseExchange,
  SE_EXCHANGE_MAGIC,
  SE_EXCHANGE_VERSION,
  serializeAttestationRequest,
  serializeAttestationResponse,
  serializeExchange,
} from './se/exchange-format';
export type {
  SeAttestationRequestFile,
  SeAttestationResponseFile,
  SeExchange,
  SeExchangeField,
} from './se/exchange-format';
export { computeSeMeasurement, SE_MEASUREMENT_BYTES, SE_USER_DATA_MAX_BYTES } from './se/measurement';
export type { SeMeasurementItems } from './se/measurement';
export { createPvattestPerformer } from './se/pvattest-provider';
export type { PvattestPerformerOptions, SeAttestationPerformer } from './se/pvattest-provider';
export { computePublicHostKeyHash } from './se/se-crypto';
export { SeFormatError, SePvattestError, SeUltravisorError } from './se/se-errors';
export { SE_ATTESTATION_RESULT_MEDIA_TYPE } from './se/se-evidence.types';
export type { SeAttestationEvidence } from './se/se-evidence.types';
export { describeBootHdrTags, parseSeHeader, SE_HEADER_MAGIC } from './se/se-header';
export type { BootHdrTags } from './se/se-header';
export {
  buildSeAttestationResult,
  SE_ATTESTATION_PREDICATE_TYPE,
  SE_TEE_EVIDENCE_TYPE,
  SE_WORKER_KEY_SUBJECT_NAME,
  validateSeAttestationResult,
} from './se/se-result';
export type { BuildSeAttestationResultInput, SeAttestationPredicate, SeAttestationStatement } from './se/se-result';
export { createSimulatedSeGuest, SIMULATED_SE_HEADER } from './se/se-simulator';
export type { SimulatedSeGuest, SimulatedSeGuestOptions } from './se/se-simulator';
export { REQUIRED_SE_CHECKS, verifySeAttestation } from './se/se-verifier';
export type { SeAdditionalData, SeVerificationReport, VerifySeAttestationInput } from './se/se-verifier';

// DCAP collateral from Intel PCS v4 or a PCCS (§3).
export {
  createPcsCollateralSource,
  INTEL_PCS_BASE_URL,
  INTEL_ROOT_CA_CRL_URL,
} from './collateral-fetch/pcs-collateral-source';
export type { PcsCollateralSourceOptions } from './collateral-fetch/pcs-collateral-source';
export { CollateralFetchError } from './collateral-fetch/collateral-source';
export type { CollateralSource, PckCa } from './collateral-fetch/collateral-source';

// Real TDX evidence through Linux configfs-tsm (§2).
export {
  CONFIGFS_TSM_REPORT_ROOT,
  ConfigfsTsmError,
  createConfigfsTsmProvider,
  probeConfigfsTsm,
  TSM_OUTBLOB_MAX_BYTES,
} from './tdx-tsm/configfs-tsm-provider';
export type { ConfigfsTsmProviderOptions } from './tdx-tsm/configfs-tsm-provider';
export { nodeTsmFilesystem } from './tdx-tsm/tsm-filesystem';
export type { TsmFilesystem } from './tdx-tsm/tsm-filesystem';
export { createSeEvidenceProvider } from './se/se-evidence-provider';
export type { SeVerifierClient } from './se/se-evidence-provider';
export type { EvidenceContext } from './evidence/evidence.types';
