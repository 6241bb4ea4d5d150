import { SE_DIGEST_BYTES, SE_TAG_BYTES } from './measurement';
import { SeFormatError } from './se-errors';

/** SE header magic, ASCII "IBMSecEx". */
export const SE_HEADER_MAGIC = Buffer.from('IBMSecEx', 'ascii');
/** The SE header version this parser understands. */
export const SE_HEADER_VERSION = 0x100;

/** Size of the fixed header head (BootHdrHead) up to and including the TLD. */
const HEAD_BYTES = 0x1a0;
const KEYSLOT_BYTES = 80;
const OFF = { magic: 0, version: 8, size: 12, nks: 32, sea: 40, pld: 224, ald: 288, tld: 352 } as const;
const STRUCTURE = 'IBM SE header';

/**
 * The parts of an SE image header that enter the attestation measurement (208 bytes): page-, address-
 * and tweak-list digests and the header tag. They identify the exact SE image a guest booted.
 */
export interface BootHdrTags {
  readonly pld: Buffer;
  readonly ald: Buffer;
  readonly tld: Buffer;
  readonly tag: Buffer;
}

/**
 * Parses an SE header (as `pvextract-hdr` writes it): magic "IBMSecEx", version 0x100, a size consistent
 * with its keyslots and encrypted area, PLD @224, ALD @288, TLD @352, tag = last 16 bytes of the header.
 */
export function parseSeHeader(buf: Buffer): BootHdrTags {
  const fail = (field: string, offset: number, reason: string): never => {
    throw new SeFormatError(STRUCTURE, field, offset, reason);
  };
  if (!Buffer.isBuffer(buf)) return fail('header', 0, 'not a Buffer');
  if (buf.length < HEAD_BYTES + SE_TAG_BYTES) {
    fail('header', 0, `truncated: ${buf.length} bytes, at least ${HEAD_BYTES + SE_TAG_BYTES} needed`);
  }
  if (!buf.subarray(0, 8).equals(SE_HEADER_MAGIC)) {
    fail('magic', OFF.magic, `0x${buf.subarray(0, 8).toString('hex')} is not "IBMSecEx"`);
  }
  const version = buf.readUInt32BE(OFF.version);
  if (version !== SE_HEADER_VERSION) fail('version', OFF.version, `unsupported version 0x${version.toString(16)}`);
  const size = buf.readUInt32BE(OFF.size);
  const nks = buf.readBigUInt64BE(OFF.nks);
  const sea = buf.readBigUInt64BE(OFF.sea);
  const expected = BigInt(HEAD_BYTES) + nks * BigInt(KEYSLOT_BYTES) + sea + BigInt(SE_TAG_BYTES);
  if (BigInt(size) !== expected) {
    fail('size', OFF.size, `${size} does not match ${nks} keyslot(s) and encrypted area ${sea} (${expected})`);
  }
  if (size > buf.length) fail('size', OFF.size, `truncated: header declares ${size} bytes, buffer has ${buf.length}`);
  const copy = (at: number, length: number): Buffer => Buffer.from(buf.subarray(at, at + length));
  return {
    pld: copy(OFF.pld, SE_DIGEST_BYTES),
    ald: copy(OFF.ald, SE_DIGEST_BYTES),
    tld: copy(OFF.tld, SE_DIGEST_BYTES),
    tag: copy(size - SE_TAG_BYTES, SE_TAG_BYTES),
  };
}

/** Tags as lower-case hex (for results, policies and logs). */
export function describeBootHdrTags(tags: BootHdrTags): { pld: string; ald: string; tld: string; tag: string } {
  return {
    pld: tags.pld.toString('hex'),
    ald: tags.ald.toString('hex'),
    tld: tags.tld.toString('hex'),
    tag: tags.tag.toString('hex'),
  };
}
