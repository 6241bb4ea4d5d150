import { createHash, verify as verifySignature } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';

import { displayName, normalizeSerial, publicKeyOf, type ParsedCertificate } from './certificates';
import { crlDerCache, verifySignatureOnce } from './verification-cache';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** The parts of an X.509 CRL the DCAP verifier needs. */
export interface ParsedCrl {
  readonly issuerDer: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Normalized (lower-case, no leading zeros) hex serials of revoked certificates. */
  readonly revokedSerials: ReadonlySet<string>;
  readonly tbs: Buffer;
  readonly signature: Buffer;
  readonly signatureAlgorithm: string;
}

/** Parses a DER CRL (cached by the SHA-256 of `der`; treat the result as read-only). */
export function parseCrl(der: Buffer): ParsedCrl {
  const key = createHash('sha256').update(der).digest('hex');
  return crlDerCache.getOrCompute(key, () => parseCrlUncached(der)) as ParsedCrl;
}

function parseCrlUncached(der: Buffer): ParsedCrl {
  const crl = AsnConvert.parse(der, CertificateList);
  if (!crl.tbsCertListRaw) throw new Error('CRL without raw TBS bytes');
  const revoked = crl.tbsCertList.revokedCertificates ?? [];
  return {
    issuerDer: Buffer.from(AsnConvert.serialize(crl.tbsCertList.issuer)),
    thisUpdate: crl.tbsCertList.thisUpdate.getTime(),
    nextUpdate: crl.tbsCertList.nextUpdate?.getTime(),
    revokedSerials: new Set(revoked.map((r) => normalizeSerial(Buffer.from(r.userCertificate).toString('hex')))),
    tbs: Buffer.from(crl.tbsCertListRaw),
    signature: Buffer.from(crl.signature),
    signatureAlgorithm: crl.signatureAlgorithm.algorithm,
  };
}

const subjectDers = new WeakMap<ParsedCertificate, Buffer>();

function subjectDerOf(cert: ParsedCertificate): Buffer {
  let der = subjectDers.get(cert);
  if (der === undefined) {
    der = Buffer.from(AsnConvert.serialize(cert.asn.tbsCertificate.subject));
    subjectDers.set(cert, der);
  }
  return der;
}

/** Throws unless `crl` names `issuer` as its issuer and carries a valid ECDSA-SHA256 signature by it. */
export function verifyCrlSignature(crl: ParsedCrl, issuer: ParsedCertificate, label: string): void {
  if (!subjectDerOf(issuer).equals(crl.issuerDer)) throw new Error(`${label}: issuer is not "${displayName(issuer)}"`);
  if (crl.signatureAlgorithm !== ECDSA_WITH_SHA256) {
    throw new Error(`${label}: unexpected signature algorithm ${crl.signatureAlgorithm}`);
  }
  const signed = verifySignatureOnce('crl', issuer.fingerprintSha256, crl.tbs, crl.signature, () =>
    verifySignature('sha256', crl.tbs, publicKeyOf(issuer), crl.signature),
  );
  if (!signed) {
    throw new Error(`${label}: signature does not verify under "${displayName(issuer)}"`);
  }
}

/** Throws unless `thisUpdate <= now <= nextUpdate`. */
export function verifyCrlValidity(crl: ParsedCrl, now: Date, label: string): void {
  if (now < crl.thisUpdate) throw new Error(`${label}: thisUpdate ${crl.thisUpdate.toISOString()} is after now`);
  if (crl.nextUpdate && now > crl.nextUpdate) {
    throw new Error(`${label}: expired at nextUpdate ${crl.nextUpdate.toISOString()}`);
  }
}

/** True when the certificate's serial number is listed in the CRL. */
export function isRevoked(crl: ParsedCrl, cert: ParsedCertificate): boolean {
  return crl.revokedSerials.has(normalizeSerial(cert.x509.serialNumber));
}
