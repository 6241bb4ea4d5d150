import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';

/**
 * An ECDSA P-256 key generated in memory inside the TEE. The private half never leaves the
 * process: it is not exported, serialized or written anywhere. Verifiers find the public half
 * in the bundle's `signing-key` byproduct and trust it only through the TEE evidence binding.
 */
export interface BuilderSigningKey {
  /** PEM SubjectPublicKeyInfo */
  readonly publicKeyPem: string;
  /** DER SubjectPublicKeyInfo: the bytes the TEE binding hashes */
  readonly spkiDer: Buffer;
  /** lower-case hex SHA-256 of the SPKI DER; also the Sigstore bundle key hint */
  readonly spkiSha256: string;
  /** ECDSA-SHA256 signature (DER) over `data` */
  sign(data: Buffer): Buffer;
}

/** Generates a fresh signing key held only in this process's memory. */
export function generateBuilderSigningKey(): BuilderSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return fromKeyPair(privateKey, publicKey);
}

/** Loads a service signing key (e.g. the SE attestation service's) from a PEM private key. */
export function loadSigningKey(privateKeyPem: string): BuilderSigningKey {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('signing key must be an ECDSA P-256 private key');
  }
  return fromKeyPair(privateKey, createPublicKey(privateKey));
}

function fromKeyPair(privateKey: KeyObject, publicKey: KeyObject): BuilderSigningKey {
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  return Object.freeze({
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    spkiDer,
    spkiSha256: createHash('sha256').update(spkiDer).digest('hex'),
    sign: (data: Buffer) => sign('sha256', data, privateKey),
  });
}
