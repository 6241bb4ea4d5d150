import { createHash } from 'node:crypto';

/**
 * Bounded LRU map. Verifiers see the same few certificates, CRLs and collateral documents over and over
 * (one platform's PCK chain, one month's tcbInfo), so their parsed forms are kept, keyed by the SHA-256
 * of the exact input bytes: a hit can only return what parsing those same bytes would return.
 */
export class BoundedCache<V> {
  // Keys are often KiB-long texts (PEM chains, collateral JSON) that arrive as fresh strings on
  // every call; hashing all of them costs more than the lookup saves. Entries are indexed by length,
  // head and tail instead, and a hit must still equal the whole key (a cheap memcmp).
  private readonly entries = new Map<string, { key: string; value: V }>();

  constructor(readonly maxEntries: number) {}

  /** The cached value, refreshed as most recently used. */
  get(key: string): V | undefined {
    const slot = indexOf(key);
    const entry = this.entries.get(slot);
    if (entry === undefined || entry.key !== key) return undefined;
    this.entries.delete(slot);
    this.entries.set(slot, entry);
    return entry.value;
  }

  /** Stores a value, evicting the least recently used entry beyond `maxEntries`. */
  set(key: string, value: V): void {
    const slot = indexOf(key);
    this.entries.delete(slot);
    this.entries.set(slot, { key, value });
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

const SHORT_KEY = 256;
const SAMPLE = 96;

function indexOf(key: string): string {
  return key.length <= SHORT_KEY ? key : `${key.length}\u0000${key.slice(0, SAMPLE)}\u0000${key.slice(-SAMPLE)}`;
}

/**
 * Cache key for the exact parts, each length-prefixed so part boundaries cannot shift: the text
 * itself when every part is a string, else the lower-case hex SHA-256 over the parts. Hot paths key
 * by one raw input string instead (see the caches below), which costs no copy at all.
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

/** Parsed certificates by their exact PEM text (the string itself is the key: no hashing, no copy). */
export const certificateCache = new BoundedCache<object>(512);
/** Parsed certificates by the SHA-256 of their exact DER. */
export const certificateDerCache = new BoundedCache<object>(512);
/** Parsed PEM chains by their exact text. */
export const certificateChainCache = new BoundedCache<object>(256);
/** Parsed CRLs by their exact hex-DER text as carried in collateral. */
export const crlCache = new BoundedCache<object>(64);
/** Parsed CRLs by the SHA-256 of their exact DER. */
export const crlDerCache = new BoundedCache<object>(64);
/** Parsed TDX quotes by the SHA-256 of their exact bytes. */
export const parsedQuoteCache = new BoundedCache<object>(256);
/** Schema-validated collateral JSON by the exact JSON text, one cache per document kind. */
export const collateralJsonCache = {
  tcbInfo: new BoundedCache<object>(64),
  qeIdentity: new BoundedCache<object>(64),
} as const;

/**
 * Signature checks that succeeded, keyed by (purpose, signer key identity, signature) and holding the
 * exact signed bytes, which a hit must equal: comparing is far cheaper than hashing KiB-sized
 * collateral on every call. ECDSA verification is a pure function of those inputs, so a hit is exactly
 * what re-verifying would return; failures are never stored. This is not a verdict cache: validity
 * periods, trust anchors, revocation, TCB levels and bindings are evaluated on every call.
 */
const verifiedSignatures = new BoundedCache<Buffer | string>(4096);
let signatureMemoEnabled = true;

/**
 * Runs `verify` unless the same signature over the same bytes by the same key already verified.
 * `signer` must identify the public key uniquely (certificate fingerprint, raw point); `data` may be
 * given as the string whose UTF-8 encoding was signed.
 */
export function verifySignatureOnce(
  purpose: string,
  signer: string | Buffer,
  data: Buffer | string,
  signature: Buffer,
  verify: () => boolean,
): boolean {
  if (!signatureMemoEnabled) return verify();
  const signerId = typeof signer === 'string' ? signer : signer.toString('hex');
  const key = `${purpose}\u0000${signerId}\u0000${signature.toString('base64')}\u0000${typeof data}`;
  const seen = verifiedSignatures.get(key);
  if (seen !== undefined && sameBytes(seen, data)) return true;
  const ok = verify();
  if (ok) verifiedSignatures.set(key, typeof data === 'string' ? data : Buffer.from(data));
  return ok;
}

function sameBytes(a: Buffer | string, b: Buffer | string): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.equals(b);
}

/** Whether successful signature checks are remembered (callers with their own memo consult it). */
export function isSignatureMemoEnabled(): boolean {
  return signatureMemoEnabled;
}

/** Turns the signature memo on or off (benchmarks and audits compare both); parse caches stay on. */
export function setSignatureMemo(enabled: boolean): void {
  signatureMemoEnabled = enabled;
  if (!enabled) verifiedSignatures.clear();
}

/** Empties every verification cache. */
export function clearVerificationCaches(): void {
  certificateCache.clear();
  certificateDerCache.clear();
  certificateChainCache.clear();
  crlCache.clear();
  crlDerCache.clear();
  parsedQuoteCache.clear();
  collateralJsonCache.tcbInfo.clear();
  collateralJsonCache.qeIdentity.clear();
  verifiedSignatures.clear();
}

/** Current entry counts, for tests and diagnostics. */
export function verificationCacheSizes(): Record<string, number> {
  return {
    certificates: certificateCache.size + certificateDerCache.size,
    chains: certificateChainCache.size,
    crls: crlCache.size + crlDerCache.size,
    quotes: parsedQuoteCache.size,
    collateralJson: collateralJsonCache.tcbInfo.size + collateralJsonCache.qeIdentity.size,
    signatures: verifiedSignatures.size,
  };
}
