import type { SgxPckExtension } from '../pck/sgx-extension';

/**
 * Platform facts the simulator's PCK certificate certifies (SGX extension 1.2.840.113741.1.13.1).
 * The committed test PKI was generated from these values by scripts/generate-test-pki.ts; at run
 * time the simulator reads them back from the certificate, so the certificate is the source of truth.
 */
export const SIMULATED_PLATFORM: SgxPckExtension = {
  ppid: Buffer.from('TEE-SIM-PPID-001', 'ascii'),
  tcb: {
    sgxTcbComponents: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
    pceSvn: 11,
    cpuSvn: Buffer.from([3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]),
  },
  pceId: Buffer.from('0000', 'hex'),
  fmspc: Buffer.from('00aabbcc0000', 'hex'),
  sgxType: 1,
  platformInstanceId: Buffer.from('TEE-SIM-INSTANCE', 'ascii'),
  configuration: { dynamicPlatform: true, cachedKeys: true, smtEnabled: true },
};

/** Common subject suffix: every simulator certificate says it is not Intel's. */
export const SIMULATOR_ORGANIZATION = 'SecureBuild Simulator (NOT INTEL)';
