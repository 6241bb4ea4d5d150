import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto';

import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificateList,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  RevokedCertificate,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  TBSCertList,
  Time,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

const ECDSA_WITH_SHA256 = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' });
const NAME_OIDS = { CN: '2.5.4.3', O: '2.5.4.10' } as const;

/** A distinguished name as CN and O (the only attributes the simulator PKI uses). */
export interface SimpleName {
  readonly CN: string;
  readonly O: string;
}

/** Inputs for one ECDSA-P256/SHA-256 certificate. */
export interface CertificateSpec {
  readonly serialHex: string;
  readonly subject: SimpleName;
  readonly issuer: SimpleName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly issuerPublicKey: KeyObject;
  readonly signingKey: KeyObject;
  /** `undefined` = end entity; a number = CA with that path length. */
  readonly caPathLength?: number;
  readonly keyUsage: number;
  readonly extraExtensions?: readonly { oid: string; critical: boolean; value: Buffer }[];
}

function toName(name: SimpleName): Name {
  return new Name(
    (Object.keys(NAME_OIDS) as (keyof SimpleName)[]).map(
      (key) =>
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({ type: NAME_OIDS[key], value: new AttributeValue({ utf8String: name[key] }) }),
        ]),
    ),
  );
}

function keyId(key: KeyObject): Buffer {
  const spki = AsnConvert.parse(key.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  return createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
}

function extension(oid: string, critical: boolean, value: ArrayBuffer | Buffer): Extension {
  const bytes = Buffer.isBuffer(value) ? new Uint8Array(value).buffer : value;
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(bytes) });
}

function serial(hex: string): ArrayBuffer {
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return new Uint8Array(bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes).buffer;
}

const sha256Ecdsa = (tbs: ArrayBuffer, key: KeyObject): ArrayBuffer =>
  new Uint8Array(sign('sha256', Buffer.from(tbs), key)).buffer;

/** Builds and signs an X.509 v3 certificate; returns its DER. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const basic = new BasicConstraints({ cA: spec.caPathLength !== undefined, pathLenConstraint: spec.caPathLength });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial(spec.serialHex),
    signature: ECDSA_WITH_SHA256,
    issuer: toName(spec.issuer),
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: toName(spec.subject),
    subjectPublicKeyInfo: AsnConvert.parse(
      spec.publicKey.export({ type: 'spki', format: 'der' }),
      SubjectPublicKeyInfo,
    ),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, AsnConvert.serialize(basic)),
      extension(id_ce_keyUsage, true, AsnConvert.serialize(new KeyUsage(spec.keyUsage))),
      extension(
        id_ce_subjectKeyIdentifier,
        false,
        AsnConvert.serialize(new SubjectKeyIdentifier(keyId(spec.publicKey))),
      ),
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        AsnConvert.serialize(
          new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId(spec.issuerPublicKey)) }),
        ),
      ),
      ...(spec.extraExtensions ?? []).map((e) => extension(e.oid, e.critical, e.value)),
    ]),
  });
  const signature = sha256Ecdsa(AsnConvert.serialize(tbs), spec.signingKey);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: ECDSA_WITH_SHA256,
    signatureValue: signature,
  });
  return Buffer.from(AsnConvert.serialize(cert));
}

/** Inputs for a CRL; `revokedSerialsHex` may be empty. */
export interface CrlSpec {
  readonly issuer: SimpleName;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revokedSerialsHex: readonly string[];
  readonly signingKey: KeyObject;
}

/** Builds and signs an X.509 v2 CRL; returns its DER. */
export function buildCrl(spec: CrlSpec): Buffer {
  const revoked = spec.revokedSerialsHex.map(
    (hex) => new RevokedCertificate({ userCertificate: serial(hex), revocationDate: new Time(spec.thisUpdate) }),
  );
  const issuerKey = createPublicKey(spec.signingKey);
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: ECDSA_WITH_SHA256,
    issuer: toName(spec.issuer),
    thisUpdate: new Time(spec.thisUpdate),
    nextUpdate: new Time(spec.nextUpdate),
    revokedCertificates: revoked.length > 0 ? revoked : undefined,
    crlExtensions: [
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId(issuerKey)) })),
      ),
    ],
  });
  const signature = sha256Ecdsa(AsnConvert.serialize(tbs), spec.signingKey);
  return Buffer.from(
    AsnConvert.serialize(new CertificateList({ tbsCertList: tbs, signatureAlgorithm: ECDSA_WITH_SHA256, signature })),
  );
}

/** Key usage flags re-exported for certificate specs. */
export { KeyUsageFlags };
