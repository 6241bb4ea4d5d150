import { createHash, createPublicKey, KeyObject } from 'node:crypto';

const MAX_ENTRIES = 256;
const cache = new Map<string, { key: KeyObject; spkiDer: Buffer }>();

/**
 * Parses a PEM public key once per distinct PEM (keyed by its SHA-256): verifying many bundles of one
 * builder would otherwise spend most of its time re-parsing the same key. Only parsing is cached,
 * never a verification result. Throws like createPublicKey on bad input.
 */
export function parsePublicKeyCached(pem: string): { key: KeyObject; spkiDer: Buffer } {
  const id = createHash('sha256').update(pem).digest('hex');
  const hit = cache.get(id);
  if (hit) return hit;
  const key = createPublicKey(pem);
  const entry = { key, spkiDer: key.export({ type: 'spki', format: 'der' }) };
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(id, entry);
  return entry;
}
