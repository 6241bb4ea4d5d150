import { createPrivateKey } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  SIMULATOR_PCK_CERT_PEM,
  SIMULATOR_PCK_CRL_HEX,
  SIMULATOR_PCK_PLATFORM_CA_KEY_PEM,
  SIMULATOR_PCK_PLATFORM_CA_PEM,
  SIMULATOR_ROOT_CA_PEM,
} from '../simulator/test-pki';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { parseCertificate, parseCertificateChain } from './certificates';
import { isRevoked, parseCrl, verifyCrlSignature, verifyCrlValidity } from './crl';
import { buildCrl } from './x509-builder';

warnIfTdxTestdataMissing('CRLs of the real collateral');

describe('CRL handling', () => {
  it.skipIf(!hasTdxTestdata)('parses and verifies Intel PCK CRL of the real collateral', () => {
    const collateral = JSON.parse(readTdxTestdata('tdx_quote_collateral.json').toString('utf8')) as {
      pck_crl: string;
      pck_crl_issuer_chain: string;
    };
    const crl = parseCrl(Buffer.from(collateral.pck_crl, 'hex'));
    const [platformCa] = parseCertificateChain(collateral.pck_crl_issuer_chain);
    expect(() => verifyCrlSignature(crl, platformCa, 'PCK CRL')).not.toThrow();
    expect(crl.revokedSerials.has('6fc34e5023e728923435d61aa4b83c618166ad35')).toBe(true);
    expect(() => verifyCrlValidity(crl, new Date('2025-06-25T00:00:00Z'), 'PCK CRL')).not.toThrow();
    expect(() => verifyCrlValidity(crl, new Date('2025-08-01T00:00:00Z'), 'PCK CRL')).toThrow(/expired/);
  });

  it('verifies the committed empty simulator PCK CRL', () => {
    const crl = parseCrl(Buffer.from(SIMULATOR_PCK_CRL_HEX, 'hex'));
    expect(crl.revokedSerials.size).toBe(0);
    expect(() => verifyCrlSignature(crl, parseCertificate(SIMULATOR_PCK_PLATFORM_CA_PEM), 'PCK CRL')).not.toThrow();
  });

  it('rejects a CRL checked against the wrong issuer', () => {
    const crl = parseCrl(Buffer.from(SIMULATOR_PCK_CRL_HEX, 'hex'));
    expect(() => verifyCrlSignature(crl, parseCertificate(SIMULATOR_ROOT_CA_PEM), 'PCK CRL')).toThrow(/issuer/);
  });

  it('finds a revoked serial in a freshly signed CRL and detects a tampered signature', () => {
    const pck = parseCertificate(SIMULATOR_PCK_CERT_PEM);
    const der = buildCrl({
      issuer: { CN: 'TEE-SIM SGX PCK Platform CA', O: 'SecureBuild Simulator (NOT INTEL)' },
      thisUpdate: new Date('2025-01-01T00:00:00Z'),
      nextUpdate: new Date('2026-01-01T00:00:00Z'),
      revokedSerialsHex: [pck.x509.serialNumber],
      signingKey: createPrivateKey(SIMULATOR_PCK_PLATFORM_CA_KEY_PEM),
    });
    const crl = parseCrl(der);
    const platformCa = parseCertificate(SIMULATOR_PCK_PLATFORM_CA_PEM);
    expect(isRevoked(crl, pck)).toBe(true);
    expect(() => verifyCrlSignature(crl, platformCa, 'PCK CRL')).not.toThrow();
    const tampered = parseCrl(der);
    const bad = { ...tampered, signature: Buffer.from(tampered.signature.map((b, i) => (i === 10 ? b ^ 1 : b))) };
    expect(() => verifyCrlSignature(bad, platformCa, 'PCK CRL')).toThrow(/signature does not verify/);
  });
});
