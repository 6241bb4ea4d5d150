import { describe, expect, it } from 'vitest';

import { DerFormatError } from '../errors';
import {
  decodeOid,
  decodeSmallUnsigned,
  derBoolean,
  derOctetString,
  derOid,
  derSequence,
  derUnsigned,
  readDerChildren,
  readDerNode,
} from './der';

describe('DER helpers', () => {
  it('round-trips OIDs, including multi-byte arcs', () => {
    for (const oid of ['1.2.840.113741.1.13.1.2.17', '2.5.29.19', '1.2.840.10045.4.3.2']) {
      expect(decodeOid(readDerNode(derOid(oid)).content)).toBe(oid);
    }
    expect(derOid('1.2.840.113741.1.13.1').toString('hex')).toBe('06092a864886f84d010d01');
  });

  it('encodes unsigned integers minimally with a sign byte when needed', () => {
    expect(derUnsigned(0).toString('hex')).toBe('020100');
    expect(derUnsigned(11).toString('hex')).toBe('02010b');
    expect(derUnsigned(0x80).toString('hex')).toBe('02020080');
    expect(decodeSmallUnsigned(readDerNode(derUnsigned(65535)).content)).toBe(65535);
  });

  it('encodes and reads long-form lengths and nested sequences', () => {
    const big = derOctetString(Buffer.alloc(300, 1));
    expect(big.subarray(0, 4).toString('hex')).toBe('0482012c');
    const seq = derSequence(big, derBoolean(true));
    const children = readDerChildren(readDerNode(seq).content);
    expect(children.map((c) => c.tag)).toEqual([0x04, 0x01]);
    expect(children[1].content[0]).toBe(0xff);
  });

  it('rejects truncated, overrunning, non-minimal and negative encodings', () => {
    expect(() => readDerNode(Buffer.from([0x30]))).toThrow(DerFormatError);
    expect(() => readDerNode(Buffer.from([0x04, 0x05, 0x00]))).toThrow(/overruns/);
    expect(() => readDerNode(Buffer.from([0x04, 0x81, 0x05, 0, 0, 0, 0, 0]))).toThrow(/non-minimal/);
    expect(() => readDerNode(Buffer.from([0x1f, 0x01, 0x00]))).toThrow(/multi-byte tags/);
    expect(() => decodeSmallUnsigned(Buffer.from([0x80]))).toThrow(/negative/);
    expect(() => decodeOid(Buffer.from([0x2a, 0x86]))).toThrow(/unterminated/);
  });
});
