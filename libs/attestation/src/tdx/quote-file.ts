import { QuoteFormatError } from '../errors';

const PRINTABLE = (byte: number): boolean =>
  byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f);

/**
 * Accepts a quote file as raw bytes or as hex text (optional `0x` prefix, any whitespace) and returns
 * the quote bytes. Binary quotes start with a non-printable version byte, so the two cannot be confused.
 */
export function decodeQuoteFile(file: Buffer): Buffer {
  if (!Buffer.isBuffer(file)) throw new QuoteFormatError('file', 0, 'input is not a Buffer');
  if (file.length === 0) throw new QuoteFormatError('file', 0, 'empty');
  if (!file.every(PRINTABLE)) return Buffer.from(file);
  const text = file.toString('latin1');
  const prefix = /^\s*(?:0[xX])?/.exec(text)?.[0].length ?? 0;
  const bad = text.slice(prefix).search(/[^0-9a-fA-F\s]/);
  if (bad >= 0) throw new QuoteFormatError('file', prefix + bad, `'${text[prefix + bad]}' is not a hex digit`);
  const hex = text.slice(prefix).replace(/\s+/g, '');
  if (hex.length === 0 || hex.length % 2 !== 0) {
    throw new QuoteFormatError('file', prefix, `hex text has ${hex.length} digits; need a non-zero even count`);
  }
  return Buffer.from(hex, 'hex');
}
