import { createHash } from 'node:crypto';

/**
 * Bounded LRU map. Verifiers see the same few certificates, CRLs and collateral documents over and over
 * (one platform's PCK chain, one month's tcbInfo), so their parsed forms are kept, keyed by the SHA-256
 * of the exact input bytes: a hit can only return what parsing those same bytes would return.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly maxEntries: number) {}

  /** The cached value, refreshed as most recently used. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Stores a value, evicting the least recently used entry beyond `maxEntries`. */
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Returns the cached value for `key` or computes, stores and returns it (errors are not cached). */
  getOrCompute(key: string, compute: () => V): V {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    this.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Cache key for the exact parts, each length-prefixed so part boundaries cannot shift: the text
 * itself when every part is a string (a Map hashes strings faster than SHA-256 does), else the
 * lower-case hex SHA-256 over the parts.
 */
export function cacheKey(...parts: (string | Buffer)[]): string {
  if (parts.every((part) => typeof part === 'string')) return parts.map((part) => `${part.length}:${part}`).join('|');
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const part of parts) {
    // Strings are hashed as UTF-8 without first copying them into a Buffer (collateral is KiB-sized).
    length.writeUInt32BE(typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length);
    hash.update(length);
    if (typeof part === 'string') hash.update(part, 'utf8');
    else hash.update(part);
  }
  return hash.digest('hex');
}

/** Parsed certificates by their exact PEM/DER input. */
export const certificateCache = new BoundedCache<object>(512);
/** Parsed CRLs by their exact DER. */
export const crlCache = new BoundedCache<object>(64);
/** Schema-validated collateral JSON (tcbInfo, QE identity) by the exact JSON text. */
export const collateralJsonCache = new BoundedCache<object>(128);

/**
 * Signature checks that succeeded, keyed by (purpose, signer key identity, signed bytes, signature).
 * ECDSA verification is a pure function of those inputs, so a hit is exactly what re-verifying would
 * return; failures are never stored. This is not a verdict cache: validity periods, trust anchors,
 * revocation, TCB levels and bindings are evaluated on every call against the caller's `now`.
 */
const verifiedSignatures = new BoundedCache<true>(4096);
let signatureMemoEnabled = true;

/**
 * Runs `verify` unless the same signature over the same bytes by the same key already verified.
 * `signer` must identify the public key uniquely (certificate fingerprint, raw point).
 */
export function verifySignatureOnce(
  purpose: string,
  signer: string | Buffer,
  data: Buffer,
  signature: Buffer,
  verify: () => boolean,
): boolean {
  if (!signatureMemoEnabled) return verify();
  const key = cacheKey(purpose, signer, data, signature);
  if (verifiedSignatures.get(key)) return true;
  const ok = verify();
  if (ok) verifiedSignatures.set(key, true);
  return ok;
}

/** Turns the signature memo on or off (benchmarks and audits compare both); parse caches stay on. */
export function setSignatureMemo(enabled: boolean): void {
  signatureMemoEnabled = enabled;
  if (!enabled) verifiedSignatures.clear();
}

/** Empties every verification cache. */
export function clearVerificationCaches(): void {
  certificateCache.clear();
  crlCache.clear();
  collateralJsonCache.clear();
  verifiedSignatures.clear();
}

/** Current entry counts, for tests and diagnostics. */
export function verificationCacheSizes(): Record<string, number> {
  return {
    certificates: certificateCache.size,
    crls: crlCache.size,
    collateralJson: collateralJsonCache.size,
    signatures: verifiedSignatures.size,
  };
}
