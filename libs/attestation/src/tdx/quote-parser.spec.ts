import { beforeAll, describe, expect, it } from 'vitest';

import { QuoteFormatError } from '../errors';
import { createSimulatedTdxQuoter } from '../simulator/simulated-quoter';
import { V4 } from '../testing/evidence.util';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { decodeQuoteFile } from './quote-file';
import { parseTdxQuote } from './quote-parser';
import { serializeTdxQuote } from './quote-serializer';

function formatError(bytes: Buffer): QuoteFormatError {
  try {
    parseTdxQuote(bytes);
  } catch (error) {
    if (error instanceof QuoteFormatError) return error;
    throw error;
  }
  throw new Error('expected parseTdxQuote to throw');
}

function expectRejected(bytes: Buffer, field: string, offset: number, reason: RegExp): void {
  const error = formatError(bytes);
  expect(error.code).toBe('QUOTE_FORMAT');
  expect({ field: error.field, offset: error.offset }).toEqual({ field, offset });
  expect(error.message).toMatch(reason);
  expect(error.message).toContain(`${field} at offset ${offset}`);
}

const withU16 = (bytes: Buffer, offset: number, value: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy.writeUInt16LE(value, offset);
  return copy;
};
const withU32 = (bytes: Buffer, offset: number, value: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy.writeUInt32LE(value, offset);
  return copy;
};

warnIfTdxTestdataMissing('parseTdxQuote real quotes');

describe.skipIf(!hasTdxTestdata)('parseTdxQuote on real Intel quotes', () => {
  it('parses tdx_quote (5006 B, 70 B zero padding) with the README MRTD and REPORTDATA', () => {
    const bytes = readTdxTestdata('tdx_quote');
    const quote = parseTdxQuote(bytes);
    expect(bytes).toHaveLength(5006);
    expect(quote.header.version).toBe(4);
    expect(quote.quoteLength).toBe(4936);
    expect(quote.paddingLength).toBe(70);
    expect(quote.signedRegion).toHaveLength(632);
    expect(quote.body.mrTd.toString('hex')).toBe(
      '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7',
    );
    expect(quote.body.reportData.toString('hex')).toBe(
      '9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20',
    );
  });

  it('decodes the golden values of attestation.md §1', () => {
    const quote = parseTdxQuote(readTdxTestdata('tdx_quote'));
    expect(quote.body.teeTcbSvn.toString('hex')).toMatch(/^06010300/);
    expect(quote.body.tdAttributes.toString('hex')).toBe('0000001000000000');
    expect(quote.body.xfam.toString('hex')).toBe('e702060000000000');
    const cert = quote.signatureData.certificationData;
    expect(cert.type).toBe(6);
    expect(cert.qeReport.isvProdId).toBe(2);
    expect(cert.qeReport.isvSvn).toBe(6);
    expect(cert.qeReport.mrSigner.toString('hex')).toBe(
      'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5',
    );
    expect(cert.qeAuthData).toHaveLength(32);
    expect(cert.pckCertChain.type).toBe(5);
    expect(cert.pckCertChain.data).toHaveLength(3678);
    expect(cert.pckCertChain.data[3677]).toBe(0);
    expect(cert.pckCertChain.certificatesPem).toHaveLength(3);
    expect(cert.pckCertChain.certificatesPem.every((pem) => !pem.includes('\0'))).toBe(true);
  });

  it.each(['tdx-quote.hex', 'quote-from-tappd.hex'])('parses the hex quote %s', (name) => {
    const quote = parseTdxQuote(decodeQuoteFile(readTdxTestdata(name)));
    expect(quote.header.teeType).toBe(0x81);
    expect(quote.signatureData.certificationData.pckCertChain.certificatesPem).toHaveLength(3);
  });

  it('parses the v5 (TD 1.5 body) quote tdx_quote_outdated', () => {
    const quote = parseTdxQuote(readTdxTestdata('tdx_quote_outdated'));
    expect(quote.header.version).toBe(5);
    expect(quote.body.bodyType).toBe(3);
    expect(quote.signedRegion).toHaveLength(54 + 648);
    expect(quote.body.mrServiceTd).toHaveLength(48);
  });
});

describe('parseTdxQuote structural rules (mutated simulator quote)', () => {
  let quote: Buffer;
  beforeAll(async () => {
    quote = (await createSimulatedTdxQuoter().quote(Buffer.alloc(64, 0xab))).quote;
  });

  it('accepts the unmodified quote and trailing zero padding, which it reports but never uses', () => {
    const padded = Buffer.concat([quote, Buffer.alloc(70)]);
    const parsed = parseTdxQuote(padded);
    expect(parsed.paddingLength).toBe(70);
    expect(parsed.quoteLength).toBe(quote.length);
    expect(serializeTdxQuote(parsed).equals(quote)).toBe(true);
  });

  it('rejects an unsupported version', () => {
    expectRejected(withU16(quote, 0, 3), 'header.version', 0, /unsupported version 3/);
  });

  it('rejects an attestation key type other than 2', () => {
    expectRejected(withU16(quote, 2, 3), 'header.attestationKeyType', 2, /not 2/);
  });

  it('rejects a TEE type other than 0x81', () => {
    expectRejected(withU32(quote, 4, 0), 'header.teeType', 4, /0x0 is not 0x81/);
  });

  it('rejects a buffer truncated inside the header', () => {
    expectRejected(quote.subarray(0, 20), 'header.qeVendorId', 12, /truncated: needs 16 bytes, 8 remain/);
  });

  it('rejects a buffer truncated inside the TD report body', () => {
    expectRejected(quote.subarray(0, 600), 'body.reportData', 568, /truncated/);
  });

  it('rejects a buffer truncated before the signature data size', () => {
    expectRejected(quote.subarray(0, 634), 'signatureData.size', 632, /truncated/);
  });

  it('rejects a signature data size that overruns the buffer', () => {
    expectRejected(quote.subarray(0, quote.length - 1), 'signatureData.size', 636, /overruns the quote by 1 bytes/);
  });

  it('rejects a signature data size larger than its contents', () => {
    const size = quote.readUInt32LE(V4.sigDataSize);
    const bytes = withU32(Buffer.concat([quote, Buffer.alloc(4)]), V4.sigDataSize, size + 4);
    expectRejected(bytes, 'signatureData.size', quote.length, /4 unconsumed bytes/);
  });

  it('rejects a signature data size smaller than its contents', () => {
    const size = quote.readUInt32LE(V4.sigDataSize);
    expectRejected(withU32(quote, V4.sigDataSize, size - 1), 'certificationData.size', V4.qeReport, /overruns/);
  });

  it('rejects certification data type other than 6', () => {
    expectRejected(withU16(quote, V4.certType, 5), 'certificationData.type', V4.certType, /5 is not 6/);
  });

  it('rejects a certification data size that overruns its own contents', () => {
    const size = quote.readUInt32LE(V4.certSize);
    expectRejected(withU32(quote, V4.certSize, size - 2), 'certificationData.pckCertChain.size', V4.chain, /overruns/);
  });

  it('rejects consistent inner sizes that leave the signature data unconsumed', () => {
    const bytes = withU32(quote, V4.certSize, quote.readUInt32LE(V4.certSize) - 2);
    bytes.writeUInt32LE(quote.readUInt32LE(V4.chainSize) - 2, V4.chainSize);
    expectRejected(bytes, 'signatureData.size', quote.length - 2, /2 unconsumed/);
  });

  it('rejects an inner certification type other than 5', () => {
    expectRejected(withU16(quote, V4.chainType, 4), 'certificationData.pckCertChain.type', V4.chainType, /4 is not 5/);
  });

  it('rejects a PCK chain size larger than the certification data', () => {
    const size = quote.readUInt32LE(V4.chainSize);
    expectRejected(withU32(quote, V4.chainSize, size + 1), 'certificationData.pckCertChain.size', V4.chain, /overruns/);
  });

  it('rejects a PCK chain size that leaves certification data unconsumed', () => {
    const size = quote.readUInt32LE(V4.chainSize);
    expectRejected(withU32(quote, V4.chainSize, size - 1), 'certificationData.size', quote.length - 1, /1 unconsumed/);
  });

  it('rejects a QE auth data size that breaks the nesting', () => {
    expectRejected(
      withU16(quote, V4.qeAuthSize, 33),
      'certificationData.pckCertChain.type',
      V4.chainType + 1,
      /is not 5/,
    );
  });

  it('rejects non-PEM bytes in the PCK chain', () => {
    const bytes = Buffer.from(quote);
    bytes[quote.length - 1] = 0x21; // the NUL terminator becomes '!'
    expectRejected(bytes, 'certificationData.pckCertChain.data', quote.length - 1, /not PEM/);
  });

  it('rejects a PCK chain without any certificate', () => {
    const size = quote.readUInt32LE(V4.chainSize);
    const bytes = Buffer.from(quote);
    bytes.fill(0, V4.chain, V4.chain + size);
    expectRejected(bytes, 'certificationData.pckCertChain.data', V4.chain, /no certificate/);
  });

  it('rejects non-zero bytes after the declared signature data', () => {
    const bytes = Buffer.concat([quote, Buffer.from([0, 0, 7])]);
    expectRejected(bytes, 'padding', quote.length + 2, /non-zero byte/);
  });

  it('rejects quotes larger than 8 KiB (CBOR Web Tokens on DICE platforms)', () => {
    const bytes = Buffer.concat([quote, Buffer.alloc(8193 - quote.length)]);
    expectRejected(bytes, 'quote', 8192, /8193 bytes exceed 8192/);
  });

  it('rejects input that is not a Buffer', () => {
    expectRejected('04000200' as unknown as Buffer, 'quote', 0, /not a Buffer/);
  });
});

describe('parseTdxQuote v5 body descriptor rules', () => {
  let v5: Buffer;
  beforeAll(async () => {
    const parsed = parseTdxQuote((await createSimulatedTdxQuoter().quote(Buffer.alloc(64))).quote);
    v5 = serializeTdxQuote({ ...parsed, header: { ...parsed.header, version: 5 } });
  });

  it('parses a v5 quote with a TD 1.0 descriptor; the signed region includes the descriptor', () => {
    const parsed = parseTdxQuote(v5);
    expect(parsed.header.version).toBe(5);
    expect(parsed.body.bodyType).toBe(2);
    expect(parsed.signedRegion).toHaveLength(54 + 584);
  });

  it('rejects an SGX body (type 1) in a TDX quote', () => {
    expectRejected(withU16(v5, 48, 1), 'body.descriptor.type', 48, /SGX body/);
  });

  it('rejects an unknown body type', () => {
    expectRejected(withU16(v5, 48, 9), 'body.descriptor.type', 48, /unknown body type 9/);
  });

  it('rejects a body size that does not match the body type', () => {
    expectRejected(withU32(v5, 50, 648), 'body.descriptor.size', 50, /size 648 does not match body type 2/);
  });
});
