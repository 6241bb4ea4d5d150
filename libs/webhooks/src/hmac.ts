import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Prefix of Standard Webhooks signing secrets, which GitLab uses for its signing token. */
const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';

/** HMAC-SHA256 over the concatenation of `parts`, without copying them into one buffer. */
export function hmacSha256(key: string | Buffer, ...parts: (string | Uint8Array)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * Constant-time equality of two byte strings. Callers compare fixed-length digests, so the length
 * check below never reveals anything about the secret; it only keeps timingSafeEqual from throwing.
 */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** SHA-256 of a string's UTF-8 bytes, so that secrets of any length compare in constant time. */
export function sha256Bytes(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * HMAC key for GitLab's `webhook-signature` (Standard Webhooks): a `whsec_<base64>` signing token
 * is base64-decoded as the specification says; any other secret is used as its UTF-8 bytes.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)) {
    const encoded = secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length);
    const key = Buffer.from(encoded, 'base64');
    if (key.length > 0 && key.toString('base64').replace(/=+$/, '') === encoded.replace(/=+$/, '')) return key;
  }
  return Buffer.from(secret, 'utf8');
}

/** Throws a TypeError for a missing secret or body: a wiring bug, never a client error. */
export function assertSecretAndBody(secret: unknown, rawBody: unknown): asserts rawBody is Buffer {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError('webhook secret must be a non-empty string');
  }
  if (!(rawBody instanceof Uint8Array)) {
    throw new TypeError('rawBody must be the raw request bytes (create the Nest app with rawBody: true)');
  }
}
