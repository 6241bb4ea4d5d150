import { describe, expect, it } from 'vitest';

import { computeTeeBinding } from '../binding/tee-binding';
import { SIMULATOR_TRUST_ANCHOR } from '../simulator/test-pki';
import { verifyTdxQuote } from '../verify/verify-tdx-quote';
import { createSimulatedTdxProvider } from './simulated-provider';

describe(createSimulatedTdxProvider.name, () => {
  it('collects simulated TDX evidence that binds the report data and verifies under the simulator anchor', async () => {
    const now = new Date('2025-06-25T00:00:00Z');
    const provider = createSimulatedTdxProvider({ now: () => now });
    const reportData = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: Buffer.from('spki') });
    const evidence = await provider.collect(reportData);
    expect(provider.teeType).toBe('simulated');
    expect(evidence).toMatchObject({
      format: 'tdx-quote-v4',
      mediaType: 'application/vnd.intel.tdx.quote.v4',
      simulated: true,
    });
    const report = verifyTdxQuote({
      quote: evidence.quote,
      collateral: evidence.collateral,
      trustAnchors: [SIMULATOR_TRUST_ANCHOR],
      now,
      expectedReportData: reportData,
    });
    expect(report).toMatchObject({ ok: true, tee: 'tdx-sim' });
  });

  it('propagates the 64-byte report data rule', async () => {
    await expect(createSimulatedTdxProvider().collect(Buffer.alloc(32))).rejects.toThrow(/exactly 64 bytes/);
  });
});
