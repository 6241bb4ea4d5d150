import { describe, expect, it } from 'vitest';

import {
  computeTeeBinding,
  createSimulatedTdxProvider,
  EvidenceProvider,
  parseTdxQuote,
} from '@secure-build/attestation';

import { establishBuilderIdentity } from './builder-identity';

describe('establishBuilderIdentity', () => {
  it('binds a fresh in-memory key into the quote REPORTDATA', async () => {
    const identity = await establishBuilderIdentity(createSimulatedTdxProvider());
    if (identity.evidence.format !== 'tdx-quote-v4') throw new Error('expected a TDX quote');
    const quote = parseTdxQuote(identity.evidence.quote);
    expect(
      quote.body.reportData.equals(
        computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: identity.key.spkiDer }),
      ),
    ).toBe(true);
    expect(identity.tee).toBe('simulated-tdx');
    expect(Object.keys(identity.key)).not.toContain('privateKey');
    expect(JSON.stringify(identity.key)).not.toMatch(/PRIVATE KEY/);
  });

  it('gives each identity its own key', async () => {
    const provider = createSimulatedTdxProvider();
    const [a, b] = await Promise.all([establishBuilderIdentity(provider), establishBuilderIdentity(provider)]);
    expect(a.key.spkiSha256).not.toBe(b.key.spkiSha256);
  });

  it('reports a provider failure as EVIDENCE_UNAVAILABLE', async () => {
    const broken: EvidenceProvider = {
      teeType: 'tdx',
      collect: () => Promise.reject(new Error('configfs-tsm: EBUSY')),
    };
    await expect(establishBuilderIdentity(broken)).rejects.toMatchObject({
      code: 'EVIDENCE_UNAVAILABLE',
      message: /tdx evidence: configfs-tsm: EBUSY/,
    });
  });
});
