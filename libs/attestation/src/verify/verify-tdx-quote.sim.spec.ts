import { createPrivateKey, generateKeyPairSync } from 'node:crypto';

import { beforeAll, describe, expect, it } from 'vitest';

import type { TdxCollateral } from '../collateral/collateral.types';
import { buildCrl } from '../pck/x509-builder';
import { createSimulatedTdxQuoter } from '../simulator/simulated-quoter';
import {
  SIMULATOR_PCK_PLATFORM_CA_KEY_PEM,
  SIMULATOR_ROOT_CA_PEM,
  SIMULATOR_TRUST_ANCHOR,
} from '../simulator/test-pki';
import { failedChecks, flipByte, resignSimulatorCollateral, V4 } from '../testing/evidence.util';
import { INTEL_TRUST_ANCHOR } from './trust-anchors';
import { verifyTdxQuote, type VerifyTdxQuoteInput } from './verify-tdx-quote';

const NOW = new Date('2025-06-25T00:00:00Z');
const REPORT_DATA = Buffer.alloc(64, 0x5a);

describe('verifyTdxQuote on simulator evidence', () => {
  let quote: Buffer;
  let collateral: TdxCollateral;
  const verify = (overrides: Partial<VerifyTdxQuoteInput> = {}) =>
    verifyTdxQuote({
      quote,
      collateral,
      trustAnchors: [SIMULATOR_TRUST_ANCHOR],
      now: NOW,
      expectedReportData: REPORT_DATA,
      ...overrides,
    });

  beforeAll(async () => {
    ({ quote, collateral } = await createSimulatedTdxQuoter({ now: () => NOW }).quote(REPORT_DATA));
  });

  it('verifies with tee "tdx-sim" and UpToDate when the simulator anchor is pinned', () => {
    const report = verify();
    expect(failedChecks(report)).toEqual([]);
    expect(report).toMatchObject({ ok: true, tee: 'tdx-sim', tcbStatus: 'UpToDate' });
  });

  it('verifies with the simulator root pinned as a PEM certificate', () => {
    expect(verify({ trustAnchors: [{ name: 'simulator', certificatePem: SIMULATOR_ROOT_CA_PEM }] }).ok).toBe(true);
  });

  it('fails pck.trust-anchor when only the Intel anchor is pinned', () => {
    const report = verify({ trustAnchors: [INTEL_TRUST_ANCHOR] });
    expect(report.ok).toBe(false);
    expect(report.tee).toBeUndefined();
    expect(report.checks.find((c) => c.name === 'pck.trust-anchor')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('TEE-SIM SGX Root CA'),
    });
  });

  it('fails when no anchor is pinned at all', () => {
    expect(failedChecks(verify({ trustAnchors: [] }))).toContain('pck.trust-anchor');
  });

  const quoteMutations: [string, number, string[]][] = [
    ['the signed region (REPORTDATA)', V4.reportData, ['quote.signature', 'report-data.binding']],
    ['the signed region (RTMR0)', V4.rtmr0, ['quote.signature']],
    ['the quote signature', V4.quoteSignature + 40, ['quote.signature']],
    ['the QE report (MRENCLAVE)', V4.qeReport + 64, ['qe.report.signature']],
    ['the QE report signature', V4.qeReportSignature, ['qe.report.signature']],
    ['the attestation key', V4.attestationKey + 63, ['qe.report.attestation-key-hash', 'quote.signature']],
    ['the QE auth data', V4.qeAuthData + 1, ['qe.report.attestation-key-hash']],
    ['TDATTRIBUTES (DEBUG bit)', 168, ['quote.signature', 'td.attributes']],
  ];
  it.each(quoteMutations)('flipping one byte in %s fails exactly %j', (_what, offset, expected) => {
    const report = verify({ quote: flipByte(quote, offset) });
    expect(report.ok).toBe(false);
    expect(failedChecks(report)).toEqual(expected);
  });

  it('fails quote.format (and never throws) for a truncated quote', () => {
    const report = verify({ quote: quote.subarray(0, 700) });
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'quote.format')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('signatureData.size at offset 636'),
    });
    expect(report.td).toBeUndefined();
  });

  it('reports every failure as a check for garbage inputs instead of throwing', () => {
    const report = verifyTdxQuote({
      quote: Buffer.from('not a quote'),
      collateral: {} as TdxCollateral,
      trustAnchors: [SIMULATOR_TRUST_ANCHOR],
      now: new Date('invalid'),
    });
    expect(report.ok).toBe(false);
    expect(failedChecks(report)).toEqual(expect.arrayContaining(['input.now', 'quote.format', 'pck.chain']));
    expect(report.checks.every((c) => !c.ok)).toBe(true);
  });

  it('fails the validity checks once the collateral (30 days) has expired', () => {
    const report = verify({ now: new Date(NOW.getTime() + 31 * 24 * 3600 * 1000) });
    expect(failedChecks(report)).toEqual(['collateral.qe-identity.validity', 'collateral.tcb-info.validity']);
  });

  it('fails the validity checks before the collateral was issued', () => {
    const report = verify({ now: new Date(NOW.getTime() - 1000) });
    expect(failedChecks(report)).toEqual(['collateral.qe-identity.validity', 'collateral.tcb-info.validity']);
  });

  it('fails pck.revocation when the PCK CRL lists the PCK certificate', () => {
    const pckCrl = buildCrl({
      issuer: { CN: 'TEE-SIM SGX PCK Platform CA', O: 'SecureBuild Simulator (NOT INTEL)' },
      thisUpdate: new Date('2025-01-01T00:00:00Z'),
      nextUpdate: new Date('2026-01-01T00:00:00Z'),
      revokedSerialsHex: ['5e0000000000000003'],
      signingKey: createPrivateKey(SIMULATOR_PCK_PLATFORM_CA_KEY_PEM),
    });
    const report = verify({ collateral: { ...collateral, pck_crl: pckCrl.toString('hex') } });
    expect(failedChecks(report)).toEqual(['pck.revocation']);
  });

  it('fails collateral.crl.signature when the PCK CRL is signed by another key', () => {
    const forged = buildCrl({
      issuer: { CN: 'TEE-SIM SGX PCK Platform CA', O: 'SecureBuild Simulator (NOT INTEL)' },
      thisUpdate: new Date('2025-01-01T00:00:00Z'),
      nextUpdate: new Date('2026-01-01T00:00:00Z'),
      revokedSerialsHex: [],
      signingKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    });
    const report = verify({ collateral: { ...collateral, pck_crl: forged.toString('hex') } });
    expect(failedChecks(report)).toEqual([
      'collateral.crl.signature',
      'collateral.signing-cert.revocation',
      'pck.revocation',
    ]);
  });

  it('fails tcb.fmspc when the (validly signed) tcbInfo describes another FMSPC', () => {
    const other = resignSimulatorCollateral(collateral, 'tcb_info', (v) => (v.fmspc = '00AABBCC0001'));
    expect(failedChecks(verify({ collateral: other }))).toEqual(['tcb.fmspc']);
  });

  it('fails qe.identity when the QE identity names another MRSIGNER', () => {
    const other = resignSimulatorCollateral(collateral, 'qe_identity', (v) => (v.mrsigner = 'AB'.repeat(32)));
    expect(failedChecks(verify({ collateral: other }))).toEqual(['qe.identity']);
  });

  it('fails tcb.status when the QE ISVSVN is below every QE identity level', () => {
    const other = resignSimulatorCollateral(collateral, 'qe_identity', (v) => {
      v.tcbLevels = [{ tcb: { isvsvn: 5 }, tcbDate: '2024-01-01T00:00:00Z', tcbStatus: 'UpToDate' }];
    });
    expect(failedChecks(verify({ collateral: other }))).toEqual(['tcb.status']);
  });

  it('reports OutOfDate (still ok: acceptance of TCB statuses is policy) for an OutOfDate platform level', () => {
    const other = resignSimulatorCollateral(collateral, 'tcb_info', (v) => {
      const levels = v.tcbLevels as { tcbStatus: string; advisoryIDs?: string[] }[];
      levels[0].tcbStatus = 'OutOfDate';
      levels[0].advisoryIDs = ['INTEL-SA-00000'];
    });
    const report = verify({ collateral: other });
    expect(report).toMatchObject({ ok: true, tcbStatus: 'OutOfDate', advisoryIds: ['INTEL-SA-00000'] });
  });

  it('fails tcb.status for a Revoked platform level', () => {
    const other = resignSimulatorCollateral(collateral, 'tcb_info', (v) => {
      (v.tcbLevels as { tcbStatus: string }[])[0].tcbStatus = 'Revoked';
    });
    expect(failedChecks(verify({ collateral: other }))).toEqual(['tcb.status']);
  });

  it('fails collateral.tcb-info.format for a tcbInfo of the wrong id', () => {
    const other = resignSimulatorCollateral(collateral, 'tcb_info', (v) => (v.id = 'SGX'));
    const report = verify({ collateral: other });
    expect(report.checks.find((c) => c.name === 'collateral.tcb-info.format')).toMatchObject({ ok: false });
    expect(report.ok).toBe(false);
  });
});
