import { describe, expect, it } from 'vitest';

import { createSimulatedTdxQuoter } from '../simulator/simulated-quoter';
import { SIMULATED_MEASUREMENTS } from '../simulator/measurements';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { describeTdxQuote } from './describe';
import { parseTdxQuote } from './quote-parser';

warnIfTdxTestdataMissing('describeTdxQuote real quote');

describe(describeTdxQuote.name, () => {
  it.skipIf(!hasTdxTestdata)('summarizes the real quote as JSON-friendly data', () => {
    const description = describeTdxQuote(parseTdxQuote(readTdxTestdata('tdx_quote')));
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
    expect(description.header).toMatchObject({ version: 4, attestationKeyType: 2, teeType: '0x81' });
    expect(description.td.tdAttributes).toEqual({ hex: '0000001000000000', debug: false, septVeDisable: true });
    expect(description.td.mrTd).toMatch(/^91eb2b44/);
    expect(description.certificationData.qeReport).toMatchObject({ isvProdId: 2, isvSvn: 6 });
    const [leaf, ca, root] = description.certificationData.pckChain.certificates;
    expect(leaf).toMatchObject({ subject: expect.stringContaining('CN=Intel SGX PCK Certificate') });
    expect(ca).toMatchObject({ issuer: expect.stringContaining('CN=Intel SGX Root CA') });
    expect(root).toMatchObject({
      fingerprintSha256: '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3',
      notAfter: '2049-12-31T23:59:59.000Z',
    });
  });

  it('summarizes a simulator quote, whose chain says NOT INTEL', async () => {
    const { quote } = await createSimulatedTdxQuoter().quote(Buffer.alloc(64, 9));
    const description = describeTdxQuote(parseTdxQuote(quote));
    expect(description.td.mrTd).toBe(SIMULATED_MEASUREMENTS.mrtd);
    expect(description.td.reportData).toBe('09'.repeat(64));
    expect(description.header.qeId).toBe(Buffer.from('TEE-SIM').toString('hex').padEnd(32, '0'));
    for (const cert of description.certificationData.pckChain.certificates) {
      expect(cert).toMatchObject({ subject: expect.stringContaining('NOT INTEL') });
    }
  });
});
