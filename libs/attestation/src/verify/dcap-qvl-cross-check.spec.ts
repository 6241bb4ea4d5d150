import { X509Certificate } from 'node:crypto';

import { QuoteVerifier, verify as dcapQvlVerify } from '@phala/dcap-qvl';
import { beforeAll, describe, expect, it } from 'vitest';

import type { TdxCollateral } from '../collateral/collateral.types';
import { createSimulatedTdxQuoter } from '../simulator/simulated-quoter';
import { SIMULATOR_ROOT_CA_PEM, SIMULATOR_TRUST_ANCHOR } from '../simulator/test-pki';
import { flipByte, V4 } from '../testing/evidence.util';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { INTEL_TRUST_ANCHOR } from './trust-anchors';
import { verifyTdxQuote } from './verify-tdx-quote';

// @phala/dcap-qvl is an independent implementation; agreeing with it guards against shared mistakes.
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

warnIfTdxTestdataMissing('dcap-qvl cross-check on real evidence');

describe.skipIf(!hasTdxTestdata)('cross-check with @phala/dcap-qvl on real evidence', () => {
  let quote: Buffer;
  let collateral: TdxCollateral;
  beforeAll(() => {
    quote = readTdxTestdata('tdx_quote');
    collateral = JSON.parse(readTdxTestdata('tdx_quote_collateral.json').toString('utf8')) as TdxCollateral;
  });

  it('both accept tdx_quote at 2025-06-25 as UpToDate', () => {
    const now = new Date('2025-06-25T00:00:00Z');
    const theirs = dcapQvlVerify(quote, collateral, seconds(now));
    const ours = verifyTdxQuote({ quote, collateral, trustAnchors: [INTEL_TRUST_ANCHOR], now });
    expect(theirs.status).toBe('UpToDate');
    expect(ours.ok).toBe(true);
    expect(ours.tcbStatus).toBe(theirs.status);
  });

  it('both reject tdx_quote at 2025-08-01 (expired collateral)', () => {
    const now = new Date('2025-08-01T00:00:00Z');
    expect(() => dcapQvlVerify(quote, collateral, seconds(now))).toThrow(/expired/i);
    expect(verifyTdxQuote({ quote, collateral, trustAnchors: [INTEL_TRUST_ANCHOR], now }).ok).toBe(false);
  });

  it('both reject a quote with a flipped signed-region byte', () => {
    const now = new Date('2025-06-25T00:00:00Z');
    const bad = flipByte(quote, V4.rtmr0);
    expect(() => dcapQvlVerify(bad, collateral, seconds(now))).toThrow();
    expect(verifyTdxQuote({ quote: bad, collateral, trustAnchors: [INTEL_TRUST_ANCHOR], now }).ok).toBe(false);
  });

  it('both refuse to rate tdx_quote_outdated as UpToDate at 2026-02-25', () => {
    const outdated = readTdxTestdata('tdx_quote_outdated');
    const outdatedCollateral = JSON.parse(
      readTdxTestdata('tdx_quote_outdated_collateral.json').toString('utf8'),
    ) as TdxCollateral;
    const now = new Date('2026-02-25T00:00:00Z');
    expect(() => dcapQvlVerify(outdated, outdatedCollateral, seconds(now))).toThrow(/No matching TCB level/);
    const ours = verifyTdxQuote({
      quote: outdated,
      collateral: outdatedCollateral,
      trustAnchors: [INTEL_TRUST_ANCHOR],
      now,
    });
    expect(ours.ok).toBe(false);
  });
});

describe('cross-check with @phala/dcap-qvl on simulator evidence', () => {
  const now = new Date('2025-06-25T00:00:00Z');
  let quote: Buffer;
  let collateral: TdxCollateral;
  beforeAll(async () => {
    ({ quote, collateral } = await createSimulatedTdxQuoter({ now: () => now }).quote(Buffer.alloc(64, 3)));
  });

  it('dcap-qvl accepts the simulator quote as UpToDate under newWithRootCa(simulator root), as we do', () => {
    const verifier = QuoteVerifier.newWithRootCa(new X509Certificate(SIMULATOR_ROOT_CA_PEM).raw);
    expect(verifier.verify(quote, collateral, seconds(now)).status).toBe('UpToDate');
    expect(verifyTdxQuote({ quote, collateral, trustAnchors: [SIMULATOR_TRUST_ANCHOR], now }).ok).toBe(true);
  });

  it('dcap-qvl rejects the simulator quote under the Intel root, as we do', () => {
    expect(() => QuoteVerifier.newProd().verify(quote, collateral, seconds(now))).toThrow(/signature invalid/);
    expect(verifyTdxQuote({ quote, collateral, trustAnchors: [INTEL_TRUST_ANCHOR], now }).ok).toBe(false);
  });

  it('dcap-qvl rejects a simulator quote with a changed REPORTDATA byte, as we do', () => {
    const verifier = QuoteVerifier.newWithRootCa(new X509Certificate(SIMULATOR_ROOT_CA_PEM).raw);
    const bad = flipByte(quote, V4.reportData + 10);
    expect(() => verifier.verify(bad, collateral, seconds(now))).toThrow();
    expect(verifyTdxQuote({ quote: bad, collateral, trustAnchors: [SIMULATOR_TRUST_ANCHOR], now }).ok).toBe(false);
  });
});
