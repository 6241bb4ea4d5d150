import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** Signs with ECDSA P-256/SHA-256 and returns the raw 64-byte r‖s used inside DCAP structures. */
export function signRawEcdsa(privateKey: KeyObject, data: Buffer): Buffer {
  return sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
}

/** Verifies a raw 64-byte r‖s ECDSA P-256/SHA-256 signature. Never throws for malformed signatures. */
export function verifyRawEcdsa(publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** Imports a raw 64-byte x‖y P-256 point (DCAP attestation key); throws when not on the curve. */
export function publicKeyFromRawPoint(point: Buffer): KeyObject {
  if (point.length !== 64) throw new Error(`attestation key must be 64 bytes, got ${point.length}`);
  const coordinate = (from: number): string => point.subarray(from, from + 32).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: coordinate(0), y: coordinate(32) }, format: 'jwk' });
}

/** Exports a P-256 public key as the raw 64-byte x‖y point. */
export function rawPointFromPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error('expected a P-256 public key');
  return Buffer.concat([Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}
