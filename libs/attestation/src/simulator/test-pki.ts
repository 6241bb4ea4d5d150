import type { TrustAnchor } from '../verify/trust-anchors';

export {
  SIMULATOR_PCK_CERT_PEM,
  SIMULATOR_PCK_CRL_HEX,
  SIMULATOR_PCK_KEY_PEM,
  SIMULATOR_PCK_PLATFORM_CA_KEY_PEM,
  SIMULATOR_PCK_PLATFORM_CA_PEM,
  SIMULATOR_ROOT_CA_CRL_HEX,
  SIMULATOR_ROOT_CA_KEY_PEM,
  SIMULATOR_ROOT_CA_PEM,
  SIMULATOR_TCB_SIGNING_KEY_PEM,
  SIMULATOR_TCB_SIGNING_PEM,
} from './test-pki/test-pki.constant';

/**
 * SHA-256 of the simulator root CA (`CN=TEE-SIM SGX Root CA, O=SecureBuild Simulator (NOT INTEL)`).
 * Dev/CI pin it; production must never list it.
 */
export const SIMULATOR_ROOT_CA_FINGERPRINT = '65de3c59d6f225d83e952c92f8f0598c87f8c9ae1491a1ec4c8563dab1514cb2';

/** The trust anchor that makes simulated evidence verify (labelled `tee: 'tdx-sim'`). */
export const SIMULATOR_TRUST_ANCHOR: TrustAnchor = {
  name: 'simulator',
  fingerprintSha256: SIMULATOR_ROOT_CA_FINGERPRINT,
};
