import { createHash, X509Certificate } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { parseCertificate, parseCertificateChain, verifyChainSignatures } from '../pck/certificates';
import { parseTdxQuote } from '../tdx/quote-parser';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { INTEL_SGX_ROOT_CA_FINGERPRINT } from '../verify/trust-anchors';
import {
  SIMULATOR_PCK_CERT_PEM,
  SIMULATOR_PCK_PLATFORM_CA_PEM,
  SIMULATOR_ROOT_CA_FINGERPRINT,
  SIMULATOR_ROOT_CA_PEM,
  SIMULATOR_TCB_SIGNING_PEM,
} from './test-pki';

const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

warnIfTdxTestdataMissing('Intel root fingerprint');

describe('simulator test PKI', () => {
  it('exports the fingerprint of the committed root', () => {
    expect(fingerprint(SIMULATOR_ROOT_CA_PEM)).toBe(SIMULATOR_ROOT_CA_FINGERPRINT);
    expect(SIMULATOR_ROOT_CA_FINGERPRINT).not.toBe(INTEL_SGX_ROOT_CA_FINGERPRINT);
  });

  it('says NOT INTEL in every subject', () => {
    for (const pem of [
      SIMULATOR_ROOT_CA_PEM,
      SIMULATOR_PCK_PLATFORM_CA_PEM,
      SIMULATOR_PCK_CERT_PEM,
      SIMULATOR_TCB_SIGNING_PEM,
    ]) {
      expect(new X509Certificate(pem).subject).toContain('O=SecureBuild Simulator (NOT INTEL)');
    }
  });

  it('chains PCK and TCB signing certificates to the root with the documented constraints', () => {
    expect(() =>
      verifyChainSignatures(
        parseCertificateChain(SIMULATOR_PCK_CERT_PEM + SIMULATOR_PCK_PLATFORM_CA_PEM + SIMULATOR_ROOT_CA_PEM),
      ),
    ).not.toThrow();
    expect(() =>
      verifyChainSignatures(parseCertificateChain(SIMULATOR_TCB_SIGNING_PEM + SIMULATOR_ROOT_CA_PEM)),
    ).not.toThrow();
    expect(new X509Certificate(SIMULATOR_ROOT_CA_PEM).ca).toBe(true);
    expect(new X509Certificate(SIMULATOR_PCK_CERT_PEM).ca).toBe(false);
    expect(parseCertificate(SIMULATOR_ROOT_CA_PEM).x509.validTo).toContain('2049');
  });

  it.skipIf(!hasTdxTestdata)('pins INTEL_SGX_ROOT_CA_FINGERPRINT to the root of the real PCK chain', () => {
    const pems = parseTdxQuote(readTdxTestdata('tdx_quote')).signatureData.certificationData.pckCertChain
      .certificatesPem;
    expect(fingerprint(pems[2])).toBe(INTEL_SGX_ROOT_CA_FINGERPRINT);
  });
});
