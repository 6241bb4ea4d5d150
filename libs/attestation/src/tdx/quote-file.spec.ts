import { describe, expect, it } from 'vitest';

import { QuoteFormatError } from '../errors';
import { decodeQuoteFile } from './quote-file';

describe(decodeQuoteFile.name, () => {
  const binary = Buffer.from([0x04, 0x00, 0x02, 0x00, 0x81, 0x00, 0x00, 0x00]);

  it('returns binary input unchanged', () => {
    expect(decodeQuoteFile(binary).equals(binary)).toBe(true);
  });

  it('decodes hex text with 0x prefix, line breaks and surrounding whitespace', () => {
    expect(decodeQuoteFile(Buffer.from('  0x04000200\n81 00\r\n0000\n')).equals(binary)).toBe(true);
  });

  it('decodes upper-case hex without prefix', () => {
    expect(decodeQuoteFile(Buffer.from('0400020081000000')).equals(binary)).toBe(true);
  });

  it('rejects text with a non-hex character, naming its offset', () => {
    expect(() => decodeQuoteFile(Buffer.from('0x0400zz'))).toThrow(/file at offset 6: 'z' is not a hex digit/);
  });

  it('rejects an odd number of hex digits', () => {
    expect(() => decodeQuoteFile(Buffer.from('040'))).toThrow(QuoteFormatError);
  });

  it('rejects empty input and whitespace-only text', () => {
    expect(() => decodeQuoteFile(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => decodeQuoteFile(Buffer.from(' \n'))).toThrow(/0 digits/);
  });
});
