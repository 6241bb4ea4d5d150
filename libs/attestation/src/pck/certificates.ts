import { X509Certificate, createHash, type KeyObject } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints } from '@peculiar/asn1-x509';

import { decodeSgxExtension, SGX_EXTENSION_OID, type SgxPckExtension } from './sgx-extension';
import { splitPemCertificates } from './pem';
import {
  certificateCache,
  certificateChainCache,
  certificateDerCache,
  isSignatureMemoEnabled,
  verifySignatureOnce,
} from './verification-cache';

/** A certificate parsed both by node:crypto (signatures, names) and as ASN.1 (extensions). */
export interface ParsedCertificate {
  readonly x509: X509Certificate;
  readonly asn: Certificate;
  /** Lower-case hex SHA-256 of the DER encoding. */
  readonly fingerprintSha256: string;
}

/** Parses one PEM or DER certificate (cached by its exact input; treat the result as read-only). */
export function parseCertificate(input: string | Buffer): ParsedCertificate {
  const parse = (): ParsedCertificate => {
    const x509 = new X509Certificate(input);
    return {
      x509,
      asn: AsnConvert.parse(x509.raw, Certificate),
      fingerprintSha256: createHash('sha256').update(x509.raw).digest('hex'),
    };
  };
  if (typeof input === 'string') return certificateCache.getOrCompute(input, parse) as ParsedCertificate;
  const key = createHash('sha256').update(input).digest('hex');
  return certificateDerCache.getOrCompute(key, parse) as ParsedCertificate;
}

// Derived, immutable facts of a parsed certificate, computed once per certificate object.
const publicKeys = new WeakMap<ParsedCertificate, KeyObject>();
const constraints = new WeakMap<ParsedCertificate, { ca: boolean; pathLen?: number }>();
const sgxExtensions = new WeakMap<ParsedCertificate, SgxPckExtension>();
// Whether `cert` names `issuer` (checkIssued) and carries its valid signature: pure functions of the
// two certificates, each of which stands for its exact bytes, so they are decided once per pair.
interface IssuerLink {
  issued: boolean;
  signed?: boolean;
}
const issuerLinks = new WeakMap<ParsedCertificate, WeakMap<ParsedCertificate, IssuerLink>>();

function issuerLink(cert: ParsedCertificate, issuer: ParsedCertificate): IssuerLink {
  let byIssuer = issuerLinks.get(cert);
  if (byIssuer === undefined) {
    byIssuer = new WeakMap();
    issuerLinks.set(cert, byIssuer);
  }
  let link = byIssuer.get(issuer);
  if (link === undefined) {
    link = { issued: cert.x509.checkIssued(issuer.x509) };
    byIssuer.set(issuer, link);
  }
  return link;
}

function remember<V>(map: WeakMap<ParsedCertificate, V>, cert: ParsedCertificate, compute: () => V): V {
  let value = map.get(cert);
  if (value === undefined) {
    value = compute();
    map.set(cert, value);
  }
  return value;
}

const validities = new WeakMap<ParsedCertificate, { from: Date; to: Date }>();

/** notBefore and notAfter as Dates (parsed once per certificate; compare, never mutate). */
export function validityOf(cert: ParsedCertificate): { readonly from: Date; readonly to: Date } {
  return remember(validities, cert, () => ({ from: new Date(cert.x509.validFrom), to: new Date(cert.x509.validTo) }));
}

/** The certificate's public key (one KeyObject per parsed certificate). */
export function publicKeyOf(cert: ParsedCertificate): KeyObject {
  return remember(publicKeys, cert, () => cert.x509.publicKey);
}

/** Parses a PEM bundle into certificates, refusing stray text between blocks. */
export function parseCertificateChain(pem: string): ParsedCertificate[] {
  const chain = certificateChainCache.getOrCompute(pem, () => {
    const split = splitPemCertificates(pem);
    if (split.strayIndex !== undefined) throw new Error(`stray characters in PEM chain at index ${split.strayIndex}`);
    if (split.certificates.length === 0) throw new Error('no certificate in PEM chain');
    return Object.freeze(split.certificates.map((block) => parseCertificate(block)));
  }) as readonly ParsedCertificate[];
  return [...chain];
}

/** The basicConstraints of a certificate (`ca: false` when the extension is absent). */
export function basicConstraintsOf(cert: ParsedCertificate): { ca: boolean; pathLen?: number } {
  return remember(constraints, cert, () => {
    const ext = cert.asn.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_basicConstraints);
    if (!ext) return { ca: false };
    const value = AsnConvert.parse(ext.extnValue.buffer, BasicConstraints);
    return { ca: value.cA, pathLen: value.pathLenConstraint };
  });
}

/** Decodes the Intel SGX extension of a PCK certificate; throws when absent or duplicated. */
export function sgxExtensionOf(cert: ParsedCertificate): SgxPckExtension {
  return remember(sgxExtensions, cert, () => {
    const matches = cert.asn.tbsCertificate.extensions?.filter((e) => e.extnID === SGX_EXTENSION_OID) ?? [];
    if (matches.length !== 1) throw new Error(`expected one SGX extension, found ${matches.length}`);
    return decodeSgxExtension(Buffer.from(matches[0].extnValue.buffer));
  });
}

/** One-line subject for messages (`CN=..., O=...`). */
export function displayName(cert: ParsedCertificate): string {
  return cert.x509.subject.replace(/\n/g, ', ');
}

/** Lower-case serial number without leading zeros, comparable with CRL entries. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * Checks that `chain` (leaf first, self-signed root last) is signed link by link, that issuers are CAs
 * within their path length and the leaf is an end entity (or a CA with `caLeaf`, for CRL issuer
 * chains). Throws an Error naming the failing link.
 */
export function verifyChainSignatures(chain: readonly ParsedCertificate[], options: { caLeaf?: boolean } = {}): void {
  if (chain.length < 2) throw new Error(`chain has ${chain.length} certificate(s), need leaf..root`);
  if (basicConstraintsOf(chain[0]).ca !== (options.caLeaf ?? false)) {
    throw new Error(`leaf "${displayName(chain[0])}" is ${options.caLeaf ? 'not ' : ''}a CA certificate`);
  }
  for (let i = 0; i < chain.length; i += 1) {
    const cert = chain[i];
    const issuer = chain[Math.min(i + 1, chain.length - 1)];
    const name = `certificate ${i} ("${displayName(cert)}")`;
    const link = issuerLink(cert, issuer);
    if (!link.issued) throw new Error(`${name} was not issued by the next certificate`);
    // The certificate's fingerprint covers its TBS bytes and its signature, so it stands for both.
    const signed =
      (link.signed === true && isSignatureMemoEnabled()) ||
      verifySignatureOnce(
        'x509',
        issuer.fingerprintSha256,
        cert.fingerprintSha256,
        Buffer.from(cert.fingerprintSha256, 'hex'),
        () => cert.x509.verify(publicKeyOf(issuer)),
      );
    if (signed) link.signed = true;
    if (!signed) throw new Error(`${name} has an invalid signature`);
    if (i > 0) {
      const constraints = basicConstraintsOf(cert);
      if (!constraints.ca) throw new Error(`${name} is not a CA but issues certificate ${i - 1}`);
      if (constraints.pathLen !== undefined && i - 1 > constraints.pathLen) {
        throw new Error(`${name} exceeds its path length ${constraints.pathLen}`);
      }
    }
  }
}

/** Throws unless every certificate is within its validity period at `now`. */
export function verifyChainValidity(chain: readonly ParsedCertificate[], now: Date): void {
  for (const [i, cert] of chain.entries()) {
    const { from, to } = validityOf(cert);
    if (now < from || now > to) {
      throw new Error(
        `certificate ${i} is valid ${from.toISOString()}..${to.toISOString()}, not at ${now.toISOString()}`,
      );
    }
  }
}
