import { createHmac } from 'node:crypto';

import { AttestationInputError } from '../errors';

/** Sizes of the SE measurement inputs (attestation.md §5.2). */
export const SE_DIGEST_BYTES = 64;
export const SE_TAG_BYTES = 16;
export const SE_CUID_BYTES = 16;
export const SE_NONCE_BYTES = 16;
export const SE_MEASUREMENT_KEY_BYTES = 64;
export const SE_MEASUREMENT_BYTES = 64;
export const SE_USER_DATA_MAX_BYTES = 256;

/** Inputs of the SE attestation measurement: the image's BootHdrTags, the guest's CUID and the request's data. */
export interface SeMeasurementItems {
  /** Page-list digest of the SE header (64 bytes). */
  readonly pld: Buffer;
  /** Address-list digest (64 bytes). */
  readonly ald: Buffer;
  /** Tweak-list digest (64 bytes). */
  readonly tld: Buffer;
  /** SE header tag (16 bytes). */
  readonly tag: Buffer;
  /** Configuration unique id of the guest (16 bytes). */
  readonly cuid: Buffer;
  /** User data given to `pvattest perform` (0–256 bytes). */
  readonly userData?: Buffer;
  /** Request nonce (16 bytes), present when the ARCB flags it. */
  readonly nonce?: Buffer;
  /** Additional data the Ultravisor returned (PHKHs, secret-store hash, firmware state; each if flagged). */
  readonly additionalData?: Buffer;
}

/**
 * The SE attestation measurement: HMAC-SHA512(measurement key, PLD ‖ ALD ‖ TLD ‖ tag ‖ CUID ‖
 * u16_be(len user) ‖ 00 00 ‖ u32_be(len additional) ‖ user ‖ nonce ‖ additional). Only the holder of
 * the measurement key (the request creator) can compute or check it.
 */
export function computeSeMeasurement(key: Buffer, items: SeMeasurementItems): Buffer {
  requireSize('measurement key', key, SE_MEASUREMENT_KEY_BYTES);
  requireSize('pld', items.pld, SE_DIGEST_BYTES);
  requireSize('ald', items.ald, SE_DIGEST_BYTES);
  requireSize('tld', items.tld, SE_DIGEST_BYTES);
  requireSize('tag', items.tag, SE_TAG_BYTES);
  requireSize('cuid', items.cuid, SE_CUID_BYTES);
  const userData = items.userData ?? Buffer.alloc(0);
  const additional = items.additionalData ?? Buffer.alloc(0);
  if (!Buffer.isBuffer(userData) || userData.length > SE_USER_DATA_MAX_BYTES) {
    throw new AttestationInputError(`IBM SE measurement: userData must be a Buffer of at most 256 bytes`);
  }
  if (!Buffer.isBuffer(additional) || additional.length > 0xffffffff) {
    throw new AttestationInputError('IBM SE measurement: additionalData must be a Buffer shorter than 2^32 bytes');
  }
  if (items.nonce !== undefined) requireSize('nonce', items.nonce, SE_NONCE_BYTES);

  const lengths = Buffer.alloc(8);
  lengths.writeUInt16BE(userData.length, 0);
  // bytes 2..3 are reserved zeros
  lengths.writeUInt32BE(additional.length, 4);

  const hmac = createHmac('sha512', key);
  for (const part of [items.pld, items.ald, items.tld, items.tag, items.cuid, lengths, userData]) hmac.update(part);
  if (items.nonce !== undefined) hmac.update(items.nonce);
  hmac.update(additional);
  return hmac.digest();
}

function requireSize(name: string, value: Buffer, size: number): void {
  if (!Buffer.isBuffer(value) || value.length !== size) {
    throw new AttestationInputError(`IBM SE measurement: ${name} must be a Buffer of exactly ${size} bytes`, {
      field: name,
    });
  }
}
