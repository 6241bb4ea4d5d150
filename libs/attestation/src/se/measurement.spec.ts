import { describe, expect, it } from 'vitest';

import { AttestationInputError } from '../errors';
import { computeSeMeasurement } from './measurement';
import { hasSeTestdata, readSeTestdata, warnIfSeTestdataMissing } from './se-testdata.util';

interface Vector {
  name: string;
  measurementKey: string;
  pageListDigest: string;
  addressListDigest: string;
  tweakListDigest: string;
  seHeaderTag: string;
  configUid: string;
  userData: string;
  nonce: string | null;
  additionalData: string;
  expectedHmacSha512: string;
}

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

warnIfSeTestdataMissing('computeSeMeasurement vectors');

describe.skipIf(!hasSeTestdata)('computeSeMeasurement against the s390-tools vectors', () => {
  const vectors = hasSeTestdata
    ? (JSON.parse(readSeTestdata('measurement-vectors.json').toString('utf8')) as { vectors: Vector[] }).vectors
    : [];

  it('has the four documented cases', () => {
    expect(vectors.map((v) => v.name)).toEqual(['all', 'user_add', 'add', 'minimal']);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('reproduces expectedHmacSha512 of "%s"', (_name, v) => {
    const measurement = computeSeMeasurement(hex(v.measurementKey), {
      pld: hex(v.pageListDigest),
      ald: hex(v.addressListDigest),
      tld: hex(v.tweakListDigest),
      tag: hex(v.seHeaderTag),
      cuid: hex(v.configUid),
      userData: hex(v.userData),
      nonce: v.nonce === null ? undefined : hex(v.nonce),
      additionalData: hex(v.additionalData),
    });
    expect(measurement.toString('hex')).toBe(v.expectedHmacSha512);
  });
});

describe(computeSeMeasurement.name, () => {
  const items = {
    pld: Buffer.alloc(64, 1),
    ald: Buffer.alloc(64, 2),
    tld: Buffer.alloc(64, 3),
    tag: Buffer.alloc(16, 4),
    cuid: Buffer.alloc(16, 5),
  };

  it('treats absent user and additional data as empty', () => {
    const key = Buffer.alloc(64, 0x41);
    expect(computeSeMeasurement(key, items)).toEqual(
      computeSeMeasurement(key, { ...items, userData: Buffer.alloc(0), additionalData: Buffer.alloc(0) }),
    );
  });

  it.each([
    ['key', Buffer.alloc(63), items],
    ['pld', Buffer.alloc(64), { ...items, pld: Buffer.alloc(63) }],
    ['tag', Buffer.alloc(64), { ...items, tag: Buffer.alloc(32) }],
    ['cuid', Buffer.alloc(64), { ...items, cuid: Buffer.alloc(15) }],
    ['nonce', Buffer.alloc(64), { ...items, nonce: Buffer.alloc(8) }],
    ['user data', Buffer.alloc(64), { ...items, userData: Buffer.alloc(257) }],
  ])('rejects a wrong-sized %s', (_name, key, input) => {
    expect(() => computeSeMeasurement(key, input)).toThrow(AttestationInputError);
  });
});
