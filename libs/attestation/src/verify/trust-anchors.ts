import { X509Certificate, createHash } from 'node:crypto';

/** SHA-256 of Intel's SGX Root CA (`CN=Intel SGX Root CA`, 2018-05-21 → 2049-12-31), lower-case hex. */
export const INTEL_SGX_ROOT_CA_FINGERPRINT = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3';

/** Which PKI a trust anchor belongs to; decides the `tee` label of verified evidence. */
export type TrustAnchorName = 'intel' | 'simulator';

/** A pinned root: by SHA-256 fingerprint of its DER, or as the PEM certificate itself. */
export type TrustAnchor =
  | { readonly name: TrustAnchorName; readonly fingerprintSha256: string }
  | { readonly name: TrustAnchorName; readonly certificatePem: string };

/** The production anchor: Intel's SGX Root CA. */
export const INTEL_TRUST_ANCHOR: TrustAnchor = { name: 'intel', fingerprintSha256: INTEL_SGX_ROOT_CA_FINGERPRINT };

/** Normalized fingerprint (lower-case hex, no separators) of an anchor; throws for a malformed anchor. */
export function trustAnchorFingerprint(anchor: TrustAnchor): string {
  if ('certificatePem' in anchor) {
    return createHash('sha256').update(new X509Certificate(anchor.certificatePem).raw).digest('hex');
  }
  const hex = anchor.fingerprintSha256.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`trust anchor "${anchor.name}": malformed fingerprint`);
  return hex;
}

/** The first anchor whose fingerprint equals `fingerprintSha256`, if any. */
export function findTrustAnchor(anchors: readonly TrustAnchor[], fingerprintSha256: string): TrustAnchor | undefined {
  return anchors.find((anchor) => trustAnchorFingerprint(anchor) === fingerprintSha256);
}
