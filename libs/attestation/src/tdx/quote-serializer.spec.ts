import { describe, expect, it } from 'vitest';

import { isDomainError } from '@secure-build/common';

import { createSimulatedTdxQuoter } from '../simulator/simulated-quoter';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { decodeQuoteFile } from './quote-file';
import { parseTdxQuote } from './quote-parser';
import { serializeSignedRegion, serializeTdxQuote } from './quote-serializer';

warnIfTdxTestdataMissing('serializeTdxQuote real quotes');

describe.skipIf(!hasTdxTestdata)('serializeTdxQuote on real quotes', () => {
  it.each(['tdx_quote', 'tdx-quote.hex', 'quote-from-tappd.hex', 'tdx_quote_outdated'])(
    'round-trips %s byte for byte (padding excluded)',
    (name) => {
      const bytes = decodeQuoteFile(readTdxTestdata(name));
      const parsed = parseTdxQuote(bytes);
      expect(serializeTdxQuote(parsed).equals(bytes.subarray(0, parsed.quoteLength))).toBe(true);
      expect(serializeSignedRegion(parsed.header, parsed.body).equals(parsed.signedRegion)).toBe(true);
    },
  );
});

describe(serializeTdxQuote.name, () => {
  it('round-trips a simulator quote', async () => {
    const { quote } = await createSimulatedTdxQuoter().quote(Buffer.alloc(64, 1));
    expect(serializeTdxQuote(parseTdxQuote(quote)).equals(quote)).toBe(true);
  });

  it('refuses parts with a wrongly sized field, naming field and offset', async () => {
    const parsed = parseTdxQuote((await createSimulatedTdxQuoter().quote(Buffer.alloc(64))).quote);
    const bad = { ...parsed, body: { ...parsed.body, mrTd: Buffer.alloc(47) } };
    expect(() => serializeTdxQuote(bad)).toThrow(/body\.mrTd at offset 184: must be a Buffer of 48 bytes/);
    const badSig = { ...parsed, signatureData: { ...parsed.signatureData, quoteSignature: Buffer.alloc(63) } };
    expect(() => serializeTdxQuote(badSig)).toThrow(/signatureData\.quoteSignature at offset 636/);
  });

  it('refuses a TD 1.5 body in a v4 quote', async () => {
    const parsed = parseTdxQuote((await createSimulatedTdxQuoter().quote(Buffer.alloc(64))).quote);
    const bad = {
      ...parsed,
      body: { ...parsed.body, bodyType: 3 as const, teeTcbSvn2: Buffer.alloc(16), mrServiceTd: Buffer.alloc(48) },
    };
    let caught: unknown;
    try {
      serializeTdxQuote(bad);
    } catch (error) {
      caught = error;
    }
    expect(isDomainError(caught, 'QUOTE_FORMAT')).toBe(true);
  });

  it('encodes a v5 TD 1.5 quote that parses back to the same fields', async () => {
    const parsed = parseTdxQuote((await createSimulatedTdxQuoter().quote(Buffer.alloc(64))).quote);
    const v5 = serializeTdxQuote({
      ...parsed,
      header: { ...parsed.header, version: 5 },
      body: { ...parsed.body, bodyType: 3, teeTcbSvn2: Buffer.alloc(16, 2), mrServiceTd: Buffer.alloc(48) },
    });
    const again = parseTdxQuote(v5);
    expect(again.body.bodyType).toBe(3);
    expect(again.body.teeTcbSvn2?.toString('hex')).toBe('02'.repeat(16));
    expect(again.signedRegion).toHaveLength(54 + 648);
    expect(serializeTdxQuote(again).equals(v5)).toBe(true);
  });
});
