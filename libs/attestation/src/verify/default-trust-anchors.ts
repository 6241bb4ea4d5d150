import { SIMULATOR_TRUST_ANCHOR } from '../simulator/test-pki';
import { INTEL_TRUST_ANCHOR, type TrustAnchor } from './trust-anchors';

/** Production anchors: Intel's SGX Root CA only. */
export const PRODUCTION_TRUST_ANCHORS: readonly TrustAnchor[] = Object.freeze([INTEL_TRUST_ANCHOR]);

/**
 * Intel and simulator anchors together. Evidence that chains to the simulator root verifies with
 * `tee: 'tdx-sim'`, so callers using this list MUST refuse 'tdx-sim' unless their policy explicitly
 * allows simulated evidence; use PRODUCTION_TRUST_ANCHORS to make the simulator unverifiable instead.
 */
export const TRUST_ANCHORS: readonly TrustAnchor[] = Object.freeze([INTEL_TRUST_ANCHOR, SIMULATOR_TRUST_ANCHOR]);
