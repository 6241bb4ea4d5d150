import { beforeAll, describe, expect, it } from 'vitest';

import type { TdxCollateral } from '../collateral/collateral.types';
import { SIMULATOR_TRUST_ANCHOR } from '../simulator/test-pki';
import { failedChecks, flipByte, V4 } from '../testing/evidence.util';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { INTEL_TRUST_ANCHOR } from './trust-anchors';
import { REQUIRED_TDX_CHECKS, verifyTdxQuote } from './verify-tdx-quote';

const NOW = new Date('2025-06-25T00:00:00Z');
const REPORT_DATA =
  '9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20';

warnIfTdxTestdataMissing('verifyTdxQuote on real Intel evidence');

describe.skipIf(!hasTdxTestdata)('verifyTdxQuote on real Intel evidence (tdx_quote)', () => {
  let quote: Buffer;
  let collateral: TdxCollateral;
  const verify = (overrides: Partial<Parameters<typeof verifyTdxQuote>[0]> = {}) =>
    verifyTdxQuote({ quote, collateral, trustAnchors: [INTEL_TRUST_ANCHOR], now: NOW, ...overrides });

  beforeAll(() => {
    quote = readTdxTestdata('tdx_quote');
    collateral = JSON.parse(readTdxTestdata('tdx_quote_collateral.json').toString('utf8')) as TdxCollateral;
  });

  it('verifies at 2025-06-25 with the Intel anchor: tee "tdx", UpToDate, every required check passed', () => {
    const report = verify({ expectedReportData: Buffer.from(REPORT_DATA, 'hex') });
    expect(failedChecks(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tee).toBe('tdx');
    expect(report.tcbStatus).toBe('UpToDate');
    expect(report.advisoryIds).toEqual([]);
    const names = report.checks.map((check) => check.name);
    for (const name of [...REQUIRED_TDX_CHECKS, 'report-data.binding']) expect(names).toContain(name);
    expect(report.td?.td.mrTd).toMatch(/^91eb2b44/);
  });

  it('fails collateral.tcb-info.validity at 2025-08-01 (after nextUpdate 2025-07-19)', () => {
    const report = verify({ now: new Date('2025-08-01T00:00:00Z') });
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'collateral.tcb-info.validity')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('expired'),
    });
  });

  it('fails pck.trust-anchor when only the simulator root is pinned', () => {
    const report = verify({ trustAnchors: [SIMULATOR_TRUST_ANCHOR] });
    expect(report.ok).toBe(false);
    expect(report.tee).toBeUndefined();
    expect(failedChecks(report)).toContain('pck.trust-anchor');
  });

  it('accepts the Intel root pinned by fingerprint with colons and upper case', () => {
    const colon = '44:A0:19:6B:2B:99:F8:89:B8:E1:49:E9:5B:80:7A:35:0E:74:24:96:43:99:E8:85:A7:CB:B8:CC:FA:B6:74:D3';
    expect(verify({ trustAnchors: [{ name: 'intel', fingerprintSha256: colon }] }).ok).toBe(true);
  });

  const quoteMutations: [string, number, string[]][] = [
    ['the signed region (RTMR0)', V4.rtmr0 + 3, ['quote.signature']],
    ['the quote signature', V4.quoteSignature + 5, ['quote.signature']],
    ['the QE report (CPUSVN)', V4.qeReport + 2, ['qe.report.signature']],
    ['the QE report signature', V4.qeReportSignature + 7, ['qe.report.signature']],
    ['the attestation key', V4.attestationKey + 9, ['qe.report.attestation-key-hash', 'quote.signature']],
  ];
  it.each(quoteMutations)('flipping one byte in %s fails exactly %j', (_what, offset, expected) => {
    const report = verify({ quote: flipByte(quote, offset) });
    expect(report.ok).toBe(false);
    expect(failedChecks(report)).toEqual(expected);
  });

  const collateralMutations: [string, (c: TdxCollateral) => TdxCollateral, string[]][] = [
    [
      'tcb_info',
      (c) => ({ ...c, tcb_info: c.tcb_info.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18') }),
      ['collateral.tcb-info.signature'],
    ],
    [
      'tcb_info_signature',
      (c) => ({ ...c, tcb_info_signature: flipHexDigit(c.tcb_info_signature, 10) }),
      ['collateral.tcb-info.signature'],
    ],
    [
      'qe_identity',
      (c) => ({ ...c, qe_identity: c.qe_identity.replace('"isvsvn":4', '"isvsvn":3') }),
      ['collateral.qe-identity.signature'],
    ],
    [
      'qe_identity_signature',
      (c) => ({ ...c, qe_identity_signature: flipHexDigit(c.qe_identity_signature, 70) }),
      ['collateral.qe-identity.signature'],
    ],
    [
      'root_ca_crl',
      (c) => ({ ...c, root_ca_crl: flipHexDigit(c.root_ca_crl, c.root_ca_crl.length - 3) }),
      ['collateral.crl.signature', 'collateral.signing-cert.revocation', 'pck.revocation'],
    ],
  ];
  it.each(collateralMutations)('modifying %s fails exactly %j', (_what, mutate, expected) => {
    const report = verify({ collateral: mutate(collateral) });
    expect(report.ok).toBe(false);
    expect(failedChecks(report)).toEqual(expected);
  });

  it('fails report-data.binding for a different expected binding', () => {
    const report = verify({ expectedReportData: Buffer.alloc(64, 0x11) });
    expect(failedChecks(report)).toEqual(['report-data.binding']);
  });
});

describe.skipIf(!hasTdxTestdata)('verifyTdxQuote on the out-of-date v5 quote', () => {
  it('does not accept tdx_quote_outdated as UpToDate at 2026-02-25', () => {
    const report = verifyTdxQuote({
      quote: readTdxTestdata('tdx_quote_outdated'),
      collateral: JSON.parse(readTdxTestdata('tdx_quote_outdated_collateral.json').toString('utf8')) as TdxCollateral,
      trustAnchors: [INTEL_TRUST_ANCHOR],
      now: new Date('2026-02-25T00:00:00Z'),
    });
    expect(report.ok).toBe(false);
    expect(report.tcbStatus).not.toBe('UpToDate');
    expect(failedChecks(report)).toEqual(['tcb.status']);
    expect(report.td?.td.bodyType).toBe('td-report-1.5');
  });
});

function flipHexDigit(hex: string, index: number): string {
  const digit = parseInt(hex[index], 16) ^ 1;
  return hex.slice(0, index) + digit.toString(16) + hex.slice(index + 1);
}
