import { createHash, X509Certificate } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { isDomainError } from '@secure-build/common';

import { parseTdQeIdentity, parseTdxTcbInfo } from '../collateral/collateral.schema';
import { parseTdxQuote } from '../tdx/quote-parser';
import { SIMULATED_MEASUREMENTS } from './measurements';
import { createSimulatedTdxQuoter } from './simulated-quoter';

const NOW = new Date('2025-06-25T12:34:56.789Z');

describe(createSimulatedTdxQuoter.name, () => {
  it('emits a v4 TDX quote with the documented header, TD fields and QE report', async () => {
    const quoter = createSimulatedTdxQuoter({ now: () => NOW });
    const reportData = Buffer.alloc(64, 0x42);
    const { quote } = await quoter.quote(reportData);
    const parsed = parseTdxQuote(quote);
    expect(parsed.header).toMatchObject({ version: 4, attestationKeyType: 2, teeType: 0x81 });
    expect(parsed.header.qeVendorId.toString('hex')).toBe('939a7233f79c4ca9940a0db3957f0607');
    expect(parsed.header.userData.subarray(0, 7).toString('ascii')).toBe('TEE-SIM');
    expect(parsed.header.userData.subarray(7).every((b) => b === 0)).toBe(true);
    expect(parsed.body.reportData.equals(reportData)).toBe(true);
    expect(parsed.body.tdAttributes.toString('hex')).toBe('0000001000000000');
    expect(parsed.body.xfam.toString('hex')).toBe('e702060000000000');
    expect(parsed.body.mrTd.toString('hex')).toBe(SIMULATED_MEASUREMENTS.mrtd);
    const cert = parsed.signatureData.certificationData;
    expect(cert.qeReport).toMatchObject({ isvProdId: 2, isvSvn: 4 });
    expect(cert.qeAuthData.toString('hex')).toBe(Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'));
    const digest = createHash('sha256').update(parsed.signatureData.attestationKey).update(cert.qeAuthData).digest();
    expect(cert.qeReport.reportData.equals(Buffer.concat([digest, Buffer.alloc(32)]))).toBe(true);
    expect(parsed.signatureData.attestationKey.equals(quoter.attestationKey)).toBe(true);
    expect(cert.pckCertChain.data[cert.pckCertChain.data.length - 1]).toBe(0);
    const subjects = cert.pckCertChain.certificatesPem.map((pem) => new X509Certificate(pem).subject);
    expect(subjects.map((s) => /CN=(.*)/.exec(s)?.[1])).toEqual([
      'TEE-SIM SGX PCK Certificate',
      'TEE-SIM SGX PCK Platform CA',
      'TEE-SIM SGX Root CA',
    ]);
  });

  it('documents the fixed fake MRTD as SHA-384 of its label', () => {
    expect(SIMULATED_MEASUREMENTS.mrtd).toBe(
      createHash('sha384').update('securebuild.dev/tee-sim/mrtd/v1').digest('hex'),
    );
    expect(SIMULATED_MEASUREMENTS.mrowner).toBe('00'.repeat(48));
  });

  it('uses one attestation key per instance ("simulated boot") and a fresh one per instance', async () => {
    const a = createSimulatedTdxQuoter();
    const b = createSimulatedTdxQuoter();
    const [q1, q2] = await Promise.all([a.quote(Buffer.alloc(64)), a.quote(Buffer.alloc(64, 1))]);
    const key = (q: Buffer) => parseTdxQuote(q).signatureData.attestationKey.toString('hex');
    expect(key(q1.quote)).toBe(key(q2.quote));
    expect(a.attestationKey.equals(b.attestationKey)).toBe(false);
  });

  it('applies measurement overrides', async () => {
    const rtmr2 = Buffer.alloc(48, 0xee);
    const { quote } = await createSimulatedTdxQuoter({ measurements: { rtmr2 } }).quote(Buffer.alloc(64));
    const parsed = parseTdxQuote(quote);
    expect(parsed.body.rtmr2.equals(rtmr2)).toBe(true);
    expect(parsed.body.rtmr1.toString('hex')).toBe(SIMULATED_MEASUREMENTS.rtmr1);
  });

  it('emits collateral for the PCK FMSPC, issued now and valid for 30 days', async () => {
    const { collateral } = await createSimulatedTdxQuoter({ now: () => NOW }).quote(Buffer.alloc(64));
    const tcbInfo = parseTdxTcbInfo(collateral.tcb_info);
    const qeIdentity = parseTdQeIdentity(collateral.qe_identity);
    expect(tcbInfo).toMatchObject({
      id: 'TDX',
      version: 3,
      fmspc: '00AABBCC0000',
      issueDate: '2025-06-25T12:34:56Z',
      nextUpdate: '2025-07-25T12:34:56Z',
    });
    expect(tcbInfo.tdxModuleIdentities?.[0].id).toBe('TDX_01');
    expect(qeIdentity).toMatchObject({ id: 'TD_QE', version: 2, isvprodid: 2 });
    expect(collateral.tcb_info_signature).toMatch(/^[0-9a-f]{128}$/);
    expect(collateral.root_ca_crl).toMatch(/^(?:[0-9a-f]{2})+$/);
  });

  it.each([63, 65, 0])('rejects reportData of %i bytes', async (length) => {
    const quoter = createSimulatedTdxQuoter();
    await expect(quoter.quote(Buffer.alloc(length))).rejects.toSatisfy((e: unknown) =>
      isDomainError(e, 'ATTESTATION_INPUT'),
    );
  });

  it('rejects malformed or unknown measurement overrides', () => {
    expect(() => createSimulatedTdxQuoter({ measurements: { mrtd: Buffer.alloc(32) } })).toThrow(/48-byte/);
    const unknown = { mrseam: Buffer.alloc(48) } as unknown as { mrtd: Buffer };
    expect(() => createSimulatedTdxQuoter({ measurements: unknown })).toThrow(/unknown measurement mrseam/);
  });
});
