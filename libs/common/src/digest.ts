import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of the given bytes. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** OCI-style digest string `sha256:<hex>` of the given bytes. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${sha256Hex(data)}`;
}

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** True for a well-formed `sha256:<64 lower-case hex>` digest. */
export function isSha256Digest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}
