import { SeFormatError } from './se-errors';

/** pvattest exchange format magic, ASCII "pvattest" (persistent file format identifier). */
export const SE_EXCHANGE_MAGIC = Buffer.from('pvattest', 'ascii');
/** The only exchange format version defined so far (v1 = 0x0100). */
export const SE_EXCHANGE_VERSION = 0x0100;
/** Size of the exchange header; no data may start inside it. */
export const SE_EXCHANGE_HEADER_BYTES = 0x40;

/** Size limits of the Linux uvdevice (arch/s390/include/uapi/asm/uvdevice.h). */
const ARCB_MAX_BYTES = 0x100000;
const MEASUREMENT_MAX_BYTES = 0x8000;
const ADDITIONAL_MAX_BYTES = 0x8000;
const USER_DATA_MAX_BYTES = 0x100;
const CONFIG_UID_BYTES = 0x10;

const STRUCTURE = 'IBM SE exchange file';

/**
 * One entry of an exchange file: the bytes themselves, or (in requests) only the size the Ultravisor
 * output will need (entry offset 0).
 */
export type SeExchangeField =
  { readonly kind: 'data'; readonly data: Buffer } | { readonly kind: 'expected'; readonly size: number };

/** Decoded pvattest exchange file (format v1); absent entries are undefined. */
export interface SeExchange {
  readonly arcb?: SeExchangeField;
  readonly measurement?: SeExchangeField;
  readonly additionalData?: SeExchangeField;
  readonly userData?: SeExchangeField;
  readonly configUid?: SeExchangeField;
}

/** An attestation request as `pvattest create` writes it. */
export interface SeAttestationRequestFile {
  readonly arcb: Buffer;
  /** Size the measurement will need (64 for HMAC-SHA512). */
  readonly measurementSize: number;
  /** Size the requested additional data will need (0 when none is requested). */
  readonly additionalDataSize: number;
}

/** An attestation response as `pvattest perform` writes it. */
export interface SeAttestationResponseFile {
  readonly arcb: Buffer;
  readonly measurement: Buffer;
  readonly additionalData?: Buffer;
  readonly userData?: Buffer;
  readonly configUid: Buffer;
}

type EntryName = keyof SeExchange;

interface EntryLayout {
  readonly name: EntryName;
  readonly headerOffset: number;
  readonly maxSize: number;
}

/** Header entries in file order; data is laid out in this order too. */
const ENTRIES: readonly EntryLayout[] = [
  { name: 'arcb', headerOffset: 0x18, maxSize: ARCB_MAX_BYTES },
  { name: 'measurement', headerOffset: 0x20, maxSize: MEASUREMENT_MAX_BYTES },
  { name: 'additionalData', headerOffset: 0x28, maxSize: ADDITIONAL_MAX_BYTES },
  { name: 'userData', headerOffset: 0x30, maxSize: USER_DATA_MAX_BYTES },
  { name: 'configUid', headerOffset: 0x38, maxSize: CONFIG_UID_BYTES },
];

/**
 * Parses a pvattest exchange file (v1, big-endian). Refuses a bad magic, an unknown version, a declared
 * size that differs from the file length, entries pointing into the header, beyond the file or over each
 * other, and sizes above the uvdevice limits. Accepts requests and responses alike.
 */
export function parseExchange(buf: Buffer): SeExchange {
  if (!Buffer.isBuffer(buf)) throw new SeFormatError(STRUCTURE, 'file', 0, 'not a Buffer');
  if (buf.length < SE_EXCHANGE_HEADER_BYTES) {
    throw new SeFormatError(STRUCTURE, 'header', 0, `truncated: ${buf.length} bytes, the header alone is 64`);
  }
  if (!buf.subarray(0, 8).equals(SE_EXCHANGE_MAGIC)) {
    throw new SeFormatError(STRUCTURE, 'magic', 0, `0x${buf.subarray(0, 8).toString('hex')} is not "pvattest"`);
  }
  const version = buf.readUInt32BE(8);
  if (version !== SE_EXCHANGE_VERSION) {
    throw new SeFormatError(STRUCTURE, 'version', 8, `unsupported version 0x${version.toString(16)} (expected 0x100)`);
  }
  const size = buf.readUInt32BE(0x0c);
  if (size !== buf.length) {
    throw new SeFormatError(
      STRUCTURE,
      'size',
      0x0c,
      size > buf.length
        ? `truncated: header declares ${size} bytes, file has ${buf.length}`
        : `${buf.length - size} trailing bytes after the declared ${size}`,
    );
  }
  if (buf.readBigUInt64BE(0x10) !== 0n) throw new SeFormatError(STRUCTURE, 'reserved', 0x10, 'must be zero');

  const fields: Partial<Record<EntryName, SeExchangeField>> = {};
  const ranges: { name: EntryName; headerOffset: number; start: number; end: number }[] = [];
  for (const entry of ENTRIES) {
    const entrySize = buf.readUInt32BE(entry.headerOffset);
    const entryOffset = buf.readUInt32BE(entry.headerOffset + 4);
    if (entrySize === 0) continue; // absent; the offset is ignored (pvattest semantics)
    if (entrySize > entry.maxSize) {
      throw new SeFormatError(STRUCTURE, entry.name, entry.headerOffset, `size ${entrySize} exceeds ${entry.maxSize}`);
    }
    if (entryOffset === 0) {
      fields[entry.name] = { kind: 'expected', size: entrySize };
      continue;
    }
    if (entryOffset < SE_EXCHANGE_HEADER_BYTES) {
      throw new SeFormatError(
        STRUCTURE,
        entry.name,
        entry.headerOffset,
        `offset ${entryOffset} points into the header`,
      );
    }
    const end = entryOffset + entrySize;
    if (end > buf.length) {
      throw new SeFormatError(
        STRUCTURE,
        entry.name,
        entry.headerOffset,
        `data ${entryOffset}..${end} runs past the end of the ${buf.length}-byte file`,
      );
    }
    const overlapping = ranges.find((r) => entryOffset < r.end && r.start < end);
    if (overlapping) {
      throw new SeFormatError(
        STRUCTURE,
        entry.name,
        entry.headerOffset,
        `data ${entryOffset}..${end} overlaps ${overlapping.name} at ${overlapping.start}..${overlapping.end}`,
      );
    }
    ranges.push({ name: entry.name, headerOffset: entry.headerOffset, start: entryOffset, end });
    fields[entry.name] = { kind: 'data', data: Buffer.from(buf.subarray(entryOffset, end)) };
  }
  const configUid = fields.configUid;
  if (configUid !== undefined && sizeOf(configUid) !== CONFIG_UID_BYTES) {
    throw new SeFormatError(STRUCTURE, 'configUid', 0x38, `size ${sizeOf(configUid)} is not 16`);
  }
  return fields;
}

/**
 * Writes an exchange file the way pvattest does: header, then the present data entries back to back in
 * header order (ARCB, measurement, additional, user data, config UID); expected-size entries get offset 0.
 */
export function serializeExchange(exchange: SeExchange): Buffer {
  const header = Buffer.alloc(SE_EXCHANGE_HEADER_BYTES);
  SE_EXCHANGE_MAGIC.copy(header, 0);
  header.writeUInt32BE(SE_EXCHANGE_VERSION, 8);
  const chunks: Buffer[] = [header];
  let offset = SE_EXCHANGE_HEADER_BYTES;
  for (const entry of ENTRIES) {
    const field = exchange[entry.name];
    if (field === undefined) continue;
    const size = sizeOf(field);
    if (!Number.isInteger(size) || size < 0 || size > entry.maxSize) {
      throw new SeFormatError(STRUCTURE, entry.name, entry.headerOffset, `size ${size} is outside 0..${entry.maxSize}`);
    }
    if (entry.name === 'configUid' && size !== CONFIG_UID_BYTES) {
      throw new SeFormatError(STRUCTURE, entry.name, entry.headerOffset, `size ${size} is not 16`);
    }
    if (size === 0) continue;
    header.writeUInt32BE(size, entry.headerOffset);
    if (field.kind === 'data') {
      header.writeUInt32BE(offset, entry.headerOffset + 4);
      chunks.push(field.data);
      offset += size;
    }
  }
  header.writeUInt32BE(offset, 0x0c);
  return Buffer.concat(chunks);
}

/**
 * Reads an attestation request: the ARCB must be present as data; the measurement and additional data
 * sizes are taken from the expected-size (or data) entries.
 */
export function parseAttestationRequest(buf: Buffer): SeAttestationRequestFile {
  const exchange = parseExchange(buf);
  const arcb = requireData(exchange, 'arcb', 0x18, 'a request needs the attestation request control block');
  const measurementSize = exchange.measurement === undefined ? 0 : sizeOf(exchange.measurement);
  if (measurementSize === 0) {
    throw new SeFormatError(STRUCTURE, 'measurement', 0x20, 'a request must state the measurement size');
  }
  const additionalDataSize = exchange.additionalData === undefined ? 0 : sizeOf(exchange.additionalData);
  return { arcb, measurementSize, additionalDataSize };
}

/**
 * Reads an attestation response: ARCB, measurement and config UID must be present as data (a request read
 * as a response fails here); additional and user data are optional but, when listed, must be data.
 */
export function parseAttestationResponse(buf: Buffer): SeAttestationResponseFile {
  const exchange = parseExchange(buf);
  const notResponse = 'missing: this is not a response (a request file read as a response?)';
  const arcb = requireData(exchange, 'arcb', 0x18, 'a response carries the attestation request control block');
  const measurement = requireData(exchange, 'measurement', 0x20, notResponse);
  const configUid = requireData(exchange, 'configUid', 0x38, notResponse);
  const additionalData = optionalData(exchange, 'additionalData', 0x28);
  const userData = optionalData(exchange, 'userData', 0x30);
  return { arcb, measurement, additionalData, userData, configUid };
}

/** Writes a request file (ARCB as data, measurement and additional data as expected sizes). */
export function serializeAttestationRequest(request: SeAttestationRequestFile): Buffer {
  return serializeExchange({
    arcb: { kind: 'data', data: request.arcb },
    measurement: { kind: 'expected', size: request.measurementSize },
    additionalData: request.additionalDataSize > 0 ? { kind: 'expected', size: request.additionalDataSize } : undefined,
  });
}

/** Writes a response file; empty additional or user data is omitted, as pvattest does. */
export function serializeAttestationResponse(response: SeAttestationResponseFile): Buffer {
  const optional = (data: Buffer | undefined): SeExchangeField | undefined =>
    data !== undefined && data.length > 0 ? { kind: 'data', data } : undefined;
  return serializeExchange({
    arcb: { kind: 'data', data: response.arcb },
    measurement: { kind: 'data', data: response.measurement },
    additionalData: optional(response.additionalData),
    userData: optional(response.userData),
    configUid: { kind: 'data', data: response.configUid },
  });
}

function sizeOf(field: SeExchangeField): number {
  return field.kind === 'data' ? field.data.length : field.size;
}

function requireData(exchange: SeExchange, name: EntryName, headerOffset: number, reason: string): Buffer {
  const field = exchange[name];
  if (field === undefined) throw new SeFormatError(STRUCTURE, name, headerOffset, reason);
  if (field.kind !== 'data') {
    throw new SeFormatError(STRUCTURE, name, headerOffset, `only an expected size (${field.size}) is given: ${reason}`);
  }
  return field.data;
}

function optionalData(exchange: SeExchange, name: EntryName, headerOffset: number): Buffer | undefined {
  const field = exchange[name];
  if (field === undefined) return undefined;
  if (field.kind !== 'data') {
    throw new SeFormatError(STRUCTURE, name, headerOffset, `a response must carry the data, not an expected size`);
  }
  return field.data;
}
