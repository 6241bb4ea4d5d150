import { describe, expect, it } from 'vitest';

import {
  parseAttestationRequest,
  parseAttestationResponse,
  parseExchange,
  serializeAttestationRequest,
  serializeAttestationResponse,
  serializeExchange,
} from './exchange-format';
import { SeFormatError } from './se-errors';
import { hasSeTestdata, readSeTestdata, warnIfSeTestdataMissing } from './se-testdata.util';

const NAMES = ['min_req', 'add_req', 'user_req', 'full_req', 'min_resp', 'add_resp', 'user_resp', 'full_resp'];
const ARCB = Buffer.alloc(16, 0x11);
const MEASUREMENT = Buffer.alloc(64, 0x12);
const ADDITIONAL = Buffer.alloc(32, 0x13);
const CUID = Buffer.alloc(16, 0x14);
const USER = Buffer.alloc(256, 0x15);

function formatError(fn: () => unknown): SeFormatError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SeFormatError) return error;
    throw error;
  }
  throw new Error('expected an SeFormatError');
}

function expectRejected(fn: () => unknown, field: string, offset: number, reason: RegExp): void {
  const error = formatError(fn);
  expect(error.code).toBe('SE_FORMAT');
  expect({ field: error.field, offset: error.offset }).toEqual({ field, offset });
  expect(error.message).toMatch(reason);
  expect(error.message).toContain(`${field} at offset ${offset}`);
}

const withU32 = (bytes: Buffer, offset: number, value: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(value, offset);
  return copy;
};

warnIfSeTestdataMissing('pvattest exchange files');

describe.skipIf(!hasSeTestdata)('pvattest exchange files from s390-tools', () => {
  const file = (name: string): Buffer => readSeTestdata(`exchange-${name}.bin`);

  it.each(NAMES)('round-trips exchange-%s.bin byte for byte', (name) => {
    const bytes = file(name);
    expect(serializeExchange(parseExchange(bytes)).equals(bytes)).toBe(true);
  });

  it.each([
    ['min_req', 0],
    ['add_req', 32],
    ['full_req', 32],
  ])('reads %s as a request (ARCB 16×0x11, measurement 64, additional %i)', (name, additional) => {
    const request = parseAttestationRequest(file(name));
    expect(request).toEqual({ arcb: ARCB, measurementSize: 64, additionalDataSize: additional });
    expect(serializeAttestationRequest(request).equals(file(name))).toBe(true);
  });

  it('reads user_req: a request that carries user data (256×0x15)', () => {
    expect(parseExchange(file('user_req'))).toEqual({
      arcb: { kind: 'data', data: ARCB },
      measurement: { kind: 'expected', size: 64 },
      userData: { kind: 'data', data: USER },
    });
  });

  it.each([
    ['min_resp', {}],
    ['add_resp', { additionalData: ADDITIONAL }],
    ['user_resp', { userData: USER }],
    ['full_resp', { additionalData: ADDITIONAL, userData: USER }],
  ])('reads %s with the documented contents and writes it back identically', (name, extra) => {
    const response = parseAttestationResponse(file(name));
    expect(response).toEqual({
      arcb: ARCB,
      measurement: MEASUREMENT,
      configUid: CUID,
      additionalData: undefined,
      userData: undefined,
      ...extra,
    });
    expect(serializeAttestationResponse(response).equals(file(name))).toBe(true);
  });

  it.each(['min_req', 'add_req', 'full_req'])('refuses %s read as a response', (name) => {
    expectRejected(() => parseAttestationResponse(file(name)), 'measurement', 0x20, /not a response/);
  });

  it('refuses user_req read as a response (no config UID)', () => {
    // measurement is only an expected size there, so that is reported first
    expectRejected(() => parseAttestationResponse(file('user_req')), 'measurement', 0x20, /expected size/);
    const withMeasurementData = serializeExchange({
      arcb: { kind: 'data', data: ARCB },
      measurement: { kind: 'data', data: MEASUREMENT },
    });
    expectRejected(() => parseAttestationResponse(withMeasurementData), 'configUid', 0x38, /not a response/);
  });

  it('refuses a bad magic and an unknown version', () => {
    const bytes = file('full_resp');
    const badMagic = Buffer.from(bytes);
    badMagic.write('pvattesT', 0, 'ascii');
    expectRejected(() => parseExchange(badMagic), 'magic', 0, /not "pvattest"/);
    expectRejected(() => parseExchange(withU32(bytes, 8, 0x0200)), 'version', 8, /unsupported version 0x200/);
  });

  it('refuses truncated files', () => {
    const bytes = file('full_resp');
    expectRejected(() => parseExchange(bytes.subarray(0, 0x3f)), 'header', 0, /truncated/);
    expectRejected(() => parseExchange(bytes.subarray(0, bytes.length - 1)), 'size', 0x0c, /truncated/);
    // a consistent header whose last entry runs past the shortened file
    const shortened = withU32(bytes.subarray(0, bytes.length - 1), 0x0c, bytes.length - 1);
    expectRejected(() => parseExchange(shortened), 'configUid', 0x38, /runs past the end/);
    expectRejected(() => parseExchange(Buffer.concat([bytes, Buffer.alloc(1)])), 'size', 0x0c, /trailing/);
  });

  it('refuses offsets into the header, out of bounds, and overlapping entries', () => {
    const bytes = file('full_resp');
    expectRejected(() => parseExchange(withU32(bytes, 0x24, 0x20)), 'measurement', 0x20, /into the header/);
    expectRejected(() => parseExchange(withU32(bytes, 0x2c, 0x1c0)), 'additionalData', 0x28, /past the end/);
    expectRejected(
      () => parseExchange(withU32(bytes, 0x2c, 0x60)),
      'additionalData',
      0x28,
      /overlaps measurement at 80..144/,
    );
    expectRejected(() => parseExchange(withU32(bytes, 0x30, 0x101)), 'userData', 0x30, /exceeds 256/);
    expectRejected(() => parseExchange(withU32(bytes, 0x38, 0x8)), 'configUid', 0x38, /not 16/);
  });
});

describe(serializeExchange.name, () => {
  it('lays data out back to back after the header and parses back', () => {
    const exchange = {
      arcb: { kind: 'data', data: Buffer.alloc(3, 1) },
      measurement: { kind: 'data', data: Buffer.alloc(64, 2) },
      configUid: { kind: 'data', data: Buffer.alloc(16, 3) },
    } as const;
    const bytes = serializeExchange(exchange);
    expect(bytes.length).toBe(0x40 + 3 + 64 + 16);
    expect(bytes.readUInt32BE(0x1c)).toBe(0x40);
    expect(bytes.readUInt32BE(0x24)).toBe(0x43);
    expect(bytes.readUInt32BE(0x3c)).toBe(0x83);
    expect(parseExchange(bytes)).toEqual(exchange);
  });

  it('refuses a config UID that is not 16 bytes', () => {
    expectRejected(
      () => serializeExchange({ configUid: { kind: 'data', data: Buffer.alloc(8) } }),
      'configUid',
      0x38,
      /not 16/,
    );
  });
});
