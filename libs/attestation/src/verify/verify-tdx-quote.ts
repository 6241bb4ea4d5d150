import type { TcbStatus, TdxCollateral } from '../collateral/collateral.types';
import { verifyChainValidity } from '../pck/certificates';
import type { TdxQuoteDescription } from '../tdx/describe';
import { CheckRecorder, type VerificationCheck } from './check-recorder';
import {
  checkCrls,
  checkNotRevokedByRoot,
  checkSignedCollateral,
  parseCollateralCrls,
  parseQeIdentityCollateral,
  parseTcbInfoCollateral,
} from './collateral-checks';
import { checkPckChain, checkPckNotRevoked, checkTrustAnchor } from './pck-checks';
import {
  checkAttestationKeyHash,
  checkFmspc,
  checkQeIdentity,
  checkQeReportSignature,
  checkQeVendor,
  checkQuoteSignature,
  checkReportData,
  checkTdAttributes,
} from './quote-checks';
import { describeTdxQuoteCached, parseTdxQuoteCached } from './parsed-quote';
import { checkTdxModule, evaluateTcb } from './tcb-status';
import type { TrustAnchor } from './trust-anchors';

/** Inputs of `verifyTdxQuote`; `now` is injected so historic evidence can be re-verified "as of". */
export interface VerifyTdxQuoteInput {
  readonly quote: Buffer;
  readonly collateral: TdxCollateral;
  readonly trustAnchors: readonly TrustAnchor[];
  readonly now: Date;
  /** When given, REPORTDATA must equal it (check `report-data.binding`). */
  readonly expectedReportData?: Buffer;
}

/** Result of verification: `ok` only when every check passed; `tee` names the anchor the PCK chain ended at. */
export interface TdxVerificationReport {
  readonly ok: boolean;
  readonly tee: 'tdx' | 'tdx-sim' | undefined;
  readonly checks: VerificationCheck[];
  readonly td?: TdxQuoteDescription;
  /** Converged TCB status (platform, TDX module, QE); policy decides which statuses are acceptable. */
  readonly tcbStatus?: TcbStatus;
  readonly advisoryIds?: string[];
}

/** Checks that must all be present (and pass) for `ok`; a missing one means a step never ran. */
export const REQUIRED_TDX_CHECKS = [
  'quote.format',
  'quote.qe-vendor',
  'pck.chain',
  'pck.trust-anchor',
  'pck.validity',
  'pck.revocation',
  'collateral.tcb-info.chain',
  'collateral.tcb-info.signature',
  'collateral.tcb-info.validity',
  'collateral.qe-identity.chain',
  'collateral.qe-identity.signature',
  'collateral.qe-identity.validity',
  'collateral.crl.signature',
  'collateral.crl.validity',
  'collateral.signing-cert.revocation',
  'qe.report.signature',
  'qe.report.attestation-key-hash',
  'qe.identity',
  'quote.signature',
  'td.attributes',
  'tcb.fmspc',
  'tcb.tdx-module',
  'tcb.status',
] as const;

/**
 * Verifies a TDX quote against DCAP collateral and pinned roots (Intel QVL steps 1–8). Never throws on
 * bad evidence: every failure is a failing named check, and checks that depend on a failed one are
 * reported as "not evaluated".
 */
export function verifyTdxQuote(input: VerifyTdxQuoteInput): TdxVerificationReport {
  const rec = new CheckRecorder();
  const c = input.collateral;
  const now = rec.run('input.now', [input.now], (at) => {
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new Error('now must be a valid Date');
    return at;
  });
  const quote = rec.run(
    'quote.format',
    [input.quote],
    parseTdxQuoteCached,
    (q) => `v${q.header.version}, ${q.quoteLength} B`,
  );
  const tcbInfo = rec.run('collateral.tcb-info.format', [c], parseTcbInfoCollateral);
  const qeIdentity = rec.run('collateral.qe-identity.format', [c], parseQeIdentityCollateral);
  const crls = rec.run('collateral.crl.format', [c], parseCollateralCrls);

  rec.run('quote.qe-vendor', [quote], checkQeVendor);
  const pck = rec.run('pck.chain', [quote], checkPckChain);
  const pinned = rec.run(
    'pck.trust-anchor',
    [pck],
    (p) => checkTrustAnchor(p, input.trustAnchors),
    (a) => a.anchor.name,
  );
  const root = pinned?.root;
  rec.run('pck.validity', [pck, now], (p, at) => verifyChainValidity(p.chain, at));

  checkSignedCollateral(rec, 'collateral.tcb-info', tcbInfo, root, now);
  checkSignedCollateral(rec, 'collateral.qe-identity', qeIdentity, root, now);
  const trustedCrls = checkCrls(rec, crls, pck?.chain, root, now);
  rec.run('collateral.signing-cert.revocation', [trustedCrls, tcbInfo, qeIdentity], (l, t, q) =>
    checkNotRevokedByRoot(l, [t.chain, q.chain, l.pckIssuerChain]),
  );
  rec.run('pck.revocation', [pck, trustedCrls], checkPckNotRevoked);

  rec.run('qe.report.signature', [quote, pck], checkQeReportSignature);
  rec.run('qe.report.attestation-key-hash', [quote], checkAttestationKeyHash);
  rec.run('qe.identity', [quote, qeIdentity], (q, id) => checkQeIdentity(q, id.value));
  rec.run('quote.signature', [quote], checkQuoteSignature);
  rec.run('td.attributes', [quote], checkTdAttributes, (d) => d);
  if (input.expectedReportData !== undefined) {
    rec.run('report-data.binding', [quote, input.expectedReportData], checkReportData);
  }
  rec.run(
    'tcb.fmspc',
    [pck, tcbInfo],
    (p, t) => checkFmspc(p, t.value),
    (d) => d,
  );
  rec.run(
    'tcb.tdx-module',
    [quote, tcbInfo],
    (q, t) => checkTdxModule(t.value, q.body),
    (d) => d,
  );
  const tcb = rec.run(
    'tcb.status',
    [quote, tcbInfo, qeIdentity, pck],
    (q, t, id, p) => {
      const evaluation = evaluateTcb(
        t.value,
        id.value,
        p.extension,
        q.body,
        q.signatureData.certificationData.qeReport.isvSvn,
      );
      if (evaluation.status === 'Revoked') throw new Error('TCB level is Revoked');
      return evaluation;
    },
    (e) => `${e.status} (platform ${e.platform}, module ${e.tdxModule ?? 'n/a'}, QE ${e.qe})`,
  );

  const anchorName = pinned?.anchor.name;
  return {
    ok: rec.allPassed(REQUIRED_TDX_CHECKS),
    tee: anchorName === 'intel' ? 'tdx' : anchorName === 'simulator' ? 'tdx-sim' : undefined,
    checks: rec.checks,
    td: quote ? describeTdxQuoteCached(quote) : undefined,
    tcbStatus: tcb?.status,
    advisoryIds: tcb?.advisoryIds,
  };
}
