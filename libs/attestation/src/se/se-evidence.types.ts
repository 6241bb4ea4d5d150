/**
 * Media type of the SE evidence a build bundle carries: the attestation service's signed result, a
 * Sigstore bundle v0.3 (persistent: stored in provenance byproducts; do not change without a migration).
 */
export const SE_ATTESTATION_RESULT_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * IBM SE evidence. Raw SE evidence is verifiable only by the request creator (attestation.md §5.3), so a
 * bundle carries the verifier's signed result (an in-toto statement with predicate type
 * SE_ATTESTATION_PREDICATE_TYPE naming the worker key) instead of a quote.
 */
export interface SeAttestationEvidence {
  readonly format: 'ibm-se-attestation-result';
  readonly mediaType: typeof SE_ATTESTATION_RESULT_MEDIA_TYPE;
  /** The verifier's signed Sigstore bundle JSON (DSSE over the SE attestation result statement). */
  readonly result: unknown;
  /** True when the guest was the simulated Ultravisor (TEST host key, no isolation). */
  readonly simulated: boolean;
}
