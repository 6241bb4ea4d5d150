import type { TdxCollateral } from '../collateral/collateral.types';
import {
  parseTdQeIdentity,
  parseTdxTcbInfo,
  type TdQeIdentity,
  type TdxTcbInfo,
} from '../collateral/collateral.schema';
import { verifyRawEcdsa } from '../crypto/ecdsa';
import {
  displayName,
  parseCertificateChain,
  publicKeyOf,
  verifyChainSignatures,
  verifyChainValidity,
  type ParsedCertificate,
} from '../pck/certificates';
import { isRevoked, parseCrl, verifyCrlSignature, verifyCrlValidity, type ParsedCrl } from '../pck/crl';
import { collateralJsonCache, crlCache, verifySignatureOnce } from '../pck/verification-cache';
import type { CheckRecorder } from './check-recorder';

/** A signed collateral document: its exact JSON, parsed value, signature and issuer chain. */
export interface SignedCollateral<T> {
  readonly json: string;
  readonly value: T;
  readonly signature: Buffer;
  readonly chain: ParsedCertificate[];
}

/** The CRLs of the collateral and the chain that issued the PCK CRL. */
export interface CollateralCrls {
  readonly root: ParsedCrl;
  readonly pck: ParsedCrl;
  readonly pckIssuerChain: ParsedCertificate[];
}

const HEX = /^[0-9a-fA-F]*$/;

function hexBytes(value: unknown, length: number, what: string): Buffer {
  if (typeof value !== 'string' || value.length !== length * 2 || !HEX.test(value)) {
    throw new Error(`${what}: expected ${length} bytes of hex`);
  }
  return Buffer.from(value, 'hex');
}

function derHex(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value.length === 0 || !/^(?:[0-9a-fA-F]{2})+$/.test(value)) {
    throw new Error(`${what}: expected hex DER`);
  }
  return Buffer.from(value, 'hex');
}

function chainOf(pem: unknown, what: string): ParsedCertificate[] {
  if (typeof pem !== 'string') throw new Error(`${what}: expected a PEM string`);
  return parseCertificateChain(pem);
}

/** Schema-validated JSON, cached by its exact text (validation errors are not cached). */
function cachedJson<T extends object>(kind: 'tcbInfo' | 'qeIdentity', json: string, parse: (json: string) => T): T {
  if (typeof json !== 'string') return parse(json);
  return collateralJsonCache[kind].getOrCompute(json, () => parse(json)) as T;
}

/** Parses tcbInfo (check `collateral.tcb-info.format`). */
export function parseTcbInfoCollateral(c: TdxCollateral): SignedCollateral<TdxTcbInfo> {
  return {
    json: c.tcb_info,
    value: cachedJson('tcbInfo', c.tcb_info, parseTdxTcbInfo),
    signature: hexBytes(c.tcb_info_signature, 64, 'tcb_info_signature'),
    chain: chainOf(c.tcb_info_issuer_chain, 'tcb_info_issuer_chain'),
  };
}

/** Parses the QE identity (check `collateral.qe-identity.format`). */
export function parseQeIdentityCollateral(c: TdxCollateral): SignedCollateral<TdQeIdentity> {
  return {
    json: c.qe_identity,
    value: cachedJson('qeIdentity', c.qe_identity, parseTdQeIdentity),
    signature: hexBytes(c.qe_identity_signature, 64, 'qe_identity_signature'),
    chain: chainOf(c.qe_identity_issuer_chain, 'qe_identity_issuer_chain'),
  };
}

/** Parses both CRLs and the PCK CRL issuer chain (check `collateral.crl.format`). */
export function parseCollateralCrls(c: TdxCollateral): CollateralCrls {
  return {
    root: crlOf(c.root_ca_crl, 'root_ca_crl'),
    pck: crlOf(c.pck_crl, 'pck_crl'),
    pckIssuerChain: chainOf(c.pck_crl_issuer_chain, 'pck_crl_issuer_chain'),
  };
}

// Keyed by the hex text itself, so a warm call neither re-validates nor re-decodes KiB of hex.
function crlOf(hex: unknown, what: string): ParsedCrl {
  if (typeof hex !== 'string') return parseCrl(derHex(hex, what));
  return crlCache.getOrCompute(hex, () => parseCrl(derHex(hex, what))) as ParsedCrl;
}

/** Throws unless `chain` is correctly signed, valid at `now` and ends at the anchored root. */
export function verifyIssuerChain(chain: ParsedCertificate[], anchoredRoot: ParsedCertificate, now: Date): void {
  verifyChainSignatures(chain);
  verifyChainValidity(chain, now);
  const root = chain[chain.length - 1];
  if (root.fingerprintSha256 !== anchoredRoot.fingerprintSha256) {
    throw new Error(`chain ends at ${root.fingerprintSha256}, not at the pinned root of the PCK chain`);
  }
}

/** Records chain, signature and validity checks for one signed collateral document. */
export function checkSignedCollateral(
  rec: CheckRecorder,
  prefix: 'collateral.tcb-info' | 'collateral.qe-identity',
  doc: SignedCollateral<TdxTcbInfo | TdQeIdentity> | undefined,
  anchoredRoot: ParsedCertificate | undefined,
  now: Date | undefined,
): void {
  rec.run(`${prefix}.chain`, [doc, anchoredRoot, now], (d, root, at) => verifyIssuerChain(d.chain, root, at));
  rec.run(`${prefix}.signature`, [doc], (d) => {
    const signer = d.chain[0];
    const signed = verifySignatureOnce('collateral', signer.fingerprintSha256, d.json, d.signature, () =>
      verifyRawEcdsa(publicKeyOf(signer), Buffer.from(d.json, 'utf8'), d.signature),
    );
    if (!signed) {
      throw new Error(`signature does not verify under "${displayName(d.chain[0])}"`);
    }
  });
  rec.run(
    `${prefix}.validity`,
    [doc, now],
    (d, at) => {
      const issue = new Date(d.value.issueDate);
      const next = new Date(d.value.nextUpdate);
      if (at < issue) throw new Error(`issueDate ${d.value.issueDate} is after now (${at.toISOString()})`);
      if (at > next) throw new Error(`expired: nextUpdate ${d.value.nextUpdate} is before ${at.toISOString()}`);
      return `${d.value.issueDate} .. ${d.value.nextUpdate}`;
    },
    (detail) => detail,
  );
}

/** Records CRL signature/validity checks; returns the CRLs only when their signatures verified. */
export function checkCrls(
  rec: CheckRecorder,
  crls: CollateralCrls | undefined,
  pckChain: ParsedCertificate[] | undefined,
  anchoredRoot: ParsedCertificate | undefined,
  now: Date | undefined,
): CollateralCrls | undefined {
  const verified = rec.run('collateral.crl.signature', [crls, pckChain, anchoredRoot], (c, chain, root) => {
    verifyChainSignatures(c.pckIssuerChain, { caLeaf: true });
    const issuerRoot = c.pckIssuerChain[c.pckIssuerChain.length - 1];
    if (issuerRoot.fingerprintSha256 !== root.fingerprintSha256) {
      throw new Error('pck_crl_issuer_chain does not end at the pinned root');
    }
    verifyCrlSignature(c.root, root, 'root CA CRL');
    verifyCrlSignature(c.pck, chain[1], 'PCK CRL');
    return c;
  });
  rec.run('collateral.crl.validity', [crls, now], (c, at) => {
    verifyCrlValidity(c.root, at, 'root CA CRL');
    verifyCrlValidity(c.pck, at, 'PCK CRL');
    verifyChainValidity(c.pckIssuerChain, at);
  });
  return verified;
}

/** Throws if a non-root certificate of the given chains is revoked by the root CA CRL. */
export function checkNotRevokedByRoot(crls: CollateralCrls, chains: readonly ParsedCertificate[][]): void {
  for (const chain of chains) {
    for (const cert of chain.slice(0, -1)) {
      if (isRevoked(crls.root, cert)) throw new Error(`"${displayName(cert)}" is revoked by the root CA CRL`);
    }
  }
}
