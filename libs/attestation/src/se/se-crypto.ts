import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  type KeyObject,
} from 'node:crypto';

import { AttestationInputError } from '../errors';

/** P-521 coordinates are 66 bytes; SE structures left-pad each to 80 (attestation.md §5.1). */
export const P521_COORDINATE_BYTES = 66;
export const SE_COORDINATE_BYTES = 80;
export const AES_GCM_TAG_BYTES = 16;

/** X80 ‖ Y80 of a P-521 public key (a private key is reduced to its public part). */
export function p521Coordinates(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.type !== 'public' || pub.asymmetricKeyType !== 'ec' || pub.asymmetricKeyDetails?.namedCurve !== 'secp521r1') {
    throw new AttestationInputError('IBM SE: host and customer keys must be EC P-521 (secp521r1) keys');
  }
  const jwk = pub.export({ format: 'jwk' });
  const x = Buffer.from(String(jwk.x), 'base64url');
  const y = Buffer.from(String(jwk.y), 'base64url');
  return Buffer.concat([leftPad(x, SE_COORDINATE_BYTES), leftPad(y, SE_COORDINATE_BYTES)]);
}

/** Rebuilds a P-521 public key from X80 ‖ Y80; throws when padding or the point is invalid. */
export function p521PublicKeyFromCoordinates(coordinates: Buffer): KeyObject {
  if (coordinates.length !== 2 * SE_COORDINATE_BYTES) throw new Error('P-521 coordinates must be 160 bytes');
  const pad = SE_COORDINATE_BYTES - P521_COORDINATE_BYTES;
  const x = coordinates.subarray(0, SE_COORDINATE_BYTES);
  const y = coordinates.subarray(SE_COORDINATE_BYTES);
  if (x.subarray(0, pad).some((b) => b !== 0) || y.subarray(0, pad).some((b) => b !== 0)) {
    throw new Error('P-521 coordinate padding is not zero');
  }
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-521',
      x: x.subarray(pad).toString('base64url'),
      y: y.subarray(pad).toString('base64url'),
    },
    format: 'jwk',
  });
}

/**
 * Public host-key hash: SHA-256(X80 ‖ Y80) of a P-521 host key. This is the value a keyslot starts
 * with and that the Ultravisor reports as image/attestation PHKH.
 */
export function computePublicHostKeyHash(hostKey: KeyObject): Buffer {
  return createHash('sha256').update(p521Coordinates(hostKey)).digest();
}

/** Keyslot KEK = SHA-256(ECDH(private, peer public) ‖ 00 00 00 01), as s390-tools derive_aes256_gcm_key. */
export function deriveKeyslotKek(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const shared = diffieHellman({ privateKey, publicKey });
  return createHash('sha256')
    .update(shared)
    .update(Buffer.from([0, 0, 0, 1]))
    .digest();
}

/** AES-256-GCM encryption; returns ciphertext ‖ 16-byte tag. */
export function aesGcmSeal(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: AES_GCM_TAG_BYTES });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** AES-256-GCM decryption of ciphertext ‖ tag; throws when authentication fails. */
export function aesGcmOpen(key: Buffer, iv: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < AES_GCM_TAG_BYTES) throw new Error('AES-GCM input shorter than its tag');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: AES_GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - AES_GCM_TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - AES_GCM_TAG_BYTES)), decipher.final()]);
}

function leftPad(value: Buffer, size: number): Buffer {
  if (value.length > size) throw new Error(`coordinate of ${value.length} bytes exceeds ${size}`);
  return Buffer.concat([Buffer.alloc(size - value.length), value]);
}
