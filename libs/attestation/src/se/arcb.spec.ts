import { generateKeyPairSync } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { AttestationInputError } from '../errors';
import {
  assembleArcb,
  createAttestationRequest,
  decodeSeAttestationFlags,
  decryptArcb,
  encodeSeAttestationFlags,
  expectedAdditionalDataSize,
  openArcb,
  parseArcb,
} from './arcb';
import { parseAttestationRequest } from './exchange-format';
import { computePublicHostKeyHash } from './se-crypto';
import { SeFormatError, SeUltravisorError } from './se-errors';
import { hasSeTestdata, readSeTestdata, warnIfSeTestdataMissing } from './se-testdata.util';

/** Secrets s390-tools used to build arcb.bin (rust/pv/src/uvattest/arcb.rs tests). */
const ASSET_ARPK = Buffer.alloc(32, 0x17);
const ASSET_MEASUREMENT_KEY = Buffer.alloc(64, 0x77);
const ASSET_NONCE = Buffer.alloc(16, 0xab);

const p521 = () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' });

function formatError(fn: () => unknown): SeFormatError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SeFormatError) return error;
    throw error;
  }
  throw new Error('expected an SeFormatError');
}

function expectRejected(bytes: Buffer, field: string, offset: number, reason: RegExp): void {
  const error = formatError(() => parseArcb(bytes));
  expect(error.code).toBe('SE_FORMAT');
  expect({ field: error.field, offset: error.offset }).toEqual({ field, offset });
  expect(error.message).toMatch(reason);
}

const edit = (bytes: Buffer, change: (copy: Buffer) => void): Buffer => {
  const copy = Buffer.from(bytes);
  change(copy);
  return copy;
};

warnIfSeTestdataMissing('ARCB from s390-tools');

describe.skipIf(!hasSeTestdata)('arcb.bin from s390-tools', () => {
  const arcb = hasSeTestdata ? readSeTestdata('arcb.bin') : Buffer.alloc(0);

  it('parses version, length, keyslot, flags (nonce + image + attestation PHKH), MAI and key length', () => {
    const parsed = parseArcb(arcb);
    expect(arcb).toHaveLength(400);
    expect(parsed).toMatchObject({
      version: 0x0100,
      length: 400,
      keyslotCount: 1,
      encryptedAreaLength: 80,
      flagsValue: 0x7000000000000000n,
      flags: { nonce: true, imagePhkh: true, attestationPhkh: true, secretStoreHash: false, firmwareState: false },
      mai: 1,
      measurementAlgorithm: 'HMAC-SHA512',
      measurementKeyLength: 64,
    });
    expect(parsed.iv).toEqual(Buffer.alloc(12, 0x55));
    expect(parsed.keyslots).toHaveLength(1);
    expect(parsed.aad).toHaveLength(0x130);
    expect(parsed.sealed).toHaveLength(96);
  });

  it('decrypts with the asset ARPK to the asset measurement key and nonce', () => {
    expect(decryptArcb(arcb, ASSET_ARPK)).toEqual({
      measurementKey: ASSET_MEASUREMENT_KEY,
      nonce: ASSET_NONCE,
      flags: parseArcb(arcb).flags,
    });
  });

  it('re-assembles byte for byte from its parts (AAD = every byte before the encrypted area)', () => {
    const parsed = parseArcb(arcb);
    const rebuilt = assembleArcb({
      iv: parsed.iv,
      flagsValue: parsed.flagsValue,
      customerPublicKey: parsed.customerPublicKey,
      keyslots: parsed.keyslots.map((slot) => Buffer.concat([slot.phkh, slot.wrappedArpk, slot.tag])),
      arpk: ASSET_ARPK,
      measurementKey: ASSET_MEASUREMENT_KEY,
      nonce: ASSET_NONCE,
    });
    expect(rebuilt.equals(arcb)).toBe(true);
  });

  it('fails authentication with a wrong ARPK or an altered customer key', () => {
    expect(() => decryptArcb(arcb, Buffer.alloc(32, 0x16))).toThrow(/authentication failed/);
    const altered = edit(arcb, (b) => (b[0x60] ^= 1));
    expect(formatError(() => decryptArcb(altered, ASSET_ARPK)).field).toBe('encryptedArea');
  });

  it('rejects a wrong magic, version, length, keyslot count, sea, flags and MAI', () => {
    expectRejected(
      edit(arcb, (b) => (b[0] = 17)),
      'magic',
      0,
      /eight zero bytes/,
    );
    expectRejected(
      edit(arcb, (b) => b.writeUInt32BE(0x200, 8)),
      'version',
      8,
      /unsupported version 0x200/,
    );
    expectRejected(
      edit(arcb, (b) => b.writeUInt32BE(401, 12)),
      'length',
      12,
      /does not match/,
    );
    expectRejected(arcb.subarray(0, 399), 'length', 12, /buffer has 399/);
    expectRejected(arcb.subarray(0, 100), 'header', 0, /truncated/);
    expectRejected(
      edit(arcb, (b) => (b[0x27] = 0)),
      'nks',
      0x27,
      /no keyslots/,
    );
    expectRejected(
      edit(arcb, (b) => (b[0x27] = 2)),
      'length',
      12,
      /2 keyslot/,
    );
    expectRejected(
      edit(arcb, (b) => b.writeUInt32BE(64, 0x2c)),
      'sea',
      0x2c,
      /not 80/,
    );
    expectRejected(
      edit(arcb, (b) => (b[0x3b] = 17)),
      'mai',
      0x38,
      /17 is not 1/,
    );
    expectRejected(
      edit(arcb, (b) => (b[0x37] = 1)),
      'flags',
      0x30,
      /unknown flag bits/,
    );
    expectRejected(
      edit(arcb, (b) => (b[0x30] = 0x30)),
      'flags',
      0x30,
      /nonce flag/,
    );
    expectRejected(
      edit(arcb, (b) => (b[0x3c] = 17)),
      'reserved',
      0x3c,
      /must be zero/,
    );
    expectRejected(
      edit(arcb, (b) => (b[0x40] = 1)),
      'customerPublicKey',
      0x40,
      /padding/,
    );
  });
});

describe(createAttestationRequest.name, () => {
  it('builds a request any listed host key can open, with a keyslot per key', () => {
    const [first, second] = [p521(), p521()];
    const request = createAttestationRequest({
      hostKeys: [first.publicKey, second.publicKey],
      flags: { imagePhkh: true, attestationPhkh: true },
    });
    const parsed = parseArcb(request.arcb);
    expect(parsed.keyslotCount).toBe(2);
    expect(parsed.length).toBe(0xe0 + 2 * 80 + 80 + 16);
    expect(parsed.keyslots.map((s) => s.phkh)).toEqual([
      computePublicHostKeyHash(first.publicKey),
      computePublicHostKeyHash(second.publicKey),
    ]);
    expect(parsed.flagsValue).toBe(0x7000000000000000n);
    for (const host of [first, second]) {
      expect(openArcb(request.arcb, host.privateKey)).toEqual({
        measurementKey: request.secrets.measurementKey,
        nonce: request.secrets.nonce,
        flags: request.flags,
        attestationPhkh: computePublicHostKeyHash(host.publicKey),
      });
    }
    expect(decryptArcb(request.arcb, request.secrets.arpk).measurementKey).toEqual(request.secrets.measurementKey);
    expect(parseAttestationRequest(request.requestFile)).toEqual({
      arcb: request.arcb,
      measurementSize: 64,
      additionalDataSize: 64,
    });
  });

  it('uses the injected random source for ARPK, measurement key, nonce and IV', () => {
    let counter = 0;
    const random = (size: number): Buffer => Buffer.alloc(size, ++counter);
    const request = createAttestationRequest({ hostKeys: [p521().publicKey], random });
    expect(request.secrets).toEqual({
      arpk: Buffer.alloc(32, 1),
      measurementKey: Buffer.alloc(64, 2),
      nonce: Buffer.alloc(16, 3),
    });
    expect(parseArcb(request.arcb).iv).toEqual(Buffer.alloc(12, 4));
    expect(request.flags).toEqual({
      nonce: true,
      imagePhkh: false,
      attestationPhkh: false,
      secretStoreHash: false,
      firmwareState: false,
    });
  });

  it('is refused by a host key without a keyslot (UV rc 0x010c)', () => {
    const request = createAttestationRequest({ hostKeys: [p521().publicKey] });
    const error = (() => {
      try {
        openArcb(request.arcb, p521().privateKey);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SeUltravisorError);
    expect((error as SeUltravisorError).rc).toBe(0x010c);
  });

  it('is refused when the keyslot or the encrypted area was altered', () => {
    const host = p521();
    const request = createAttestationRequest({ hostKeys: [host.publicKey] });
    for (const offset of [0xe0 + 40, 0xe0 + 80 + 3, 0x180]) {
      const altered = edit(request.arcb, (b) => (b[offset] ^= 1));
      expect(() => openArcb(altered, host.privateKey)).toThrow(SeUltravisorError);
    }
    // a customer key that is no longer a curve point is a format error
    const badPoint = edit(request.arcb, (b) => (b[0x70] ^= 1));
    expect(formatError(() => openArcb(badPoint, host.privateKey)).field).toBe('customerPublicKey');
  });

  it('refuses missing or non-P-521 host keys', () => {
    expect(() => createAttestationRequest({ hostKeys: [] })).toThrow(AttestationInputError);
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => createAttestationRequest({ hostKeys: [p256.publicKey] })).toThrow(/P-521/);
  });
});

describe('attestation flags', () => {
  it('encodes MSB-0 bits 1..5 and sizes the additional data', () => {
    const all = { nonce: true, imagePhkh: true, attestationPhkh: true, secretStoreHash: true, firmwareState: true };
    expect(encodeSeAttestationFlags(all)).toBe(0x7c00000000000000n);
    expect(decodeSeAttestationFlags(0x4000000000000000n)).toEqual({
      nonce: true,
      imagePhkh: false,
      attestationPhkh: false,
      secretStoreHash: false,
      firmwareState: false,
    });
    expect(expectedAdditionalDataSize(all)).toBe(32 + 32 + 64 + 320);
  });
});
