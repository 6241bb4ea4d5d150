import { createHash, timingSafeEqual } from 'node:crypto';

import type { TdQeIdentity, TdxTcbInfo } from '../collateral/collateral.schema';
import { publicKeyFromRawPoint, verifyRawEcdsa } from '../crypto/ecdsa';
import { publicKeyOf } from '../pck/certificates';
import { verifySignatureOnce } from '../pck/verification-cache';
import { INTEL_QE_VENDOR_ID } from '../tdx/constants';
import type { TdxQuote } from '../tdx/quote.types';
import { encodeQeReport } from '../tdx/report-layouts';
import type { PckEvidence } from './pck-checks';

const certData = (quote: TdxQuote) => quote.signatureData.certificationData;

/** Check `quote.qe-vendor`: the header names Intel's quoting enclave vendor. */
export function checkQeVendor(quote: TdxQuote): void {
  if (!quote.header.qeVendorId.equals(INTEL_QE_VENDOR_ID)) {
    throw new Error(`QE vendor ${quote.header.qeVendorId.toString('hex')} is not Intel's`);
  }
}

/** Check `qe.report.signature`: the PCK key signed the 384-byte QE report. */
export function checkQeReportSignature(quote: TdxQuote, pck: PckEvidence): void {
  const data = certData(quote);
  const report = encodeQeReport(data.qeReport);
  const leaf = pck.chain[0];
  const signed = verifySignatureOnce('qe-report', leaf.fingerprintSha256, report, data.qeReportSignature, () =>
    verifyRawEcdsa(publicKeyOf(leaf), report, data.qeReportSignature),
  );
  if (!signed) {
    throw new Error('QE report signature does not verify under the PCK certificate key');
  }
}

/** Check `qe.report.attestation-key-hash`: QE REPORTDATA = SHA-256(attestation key ‖ QE auth data) ‖ 0^32. */
export function checkAttestationKeyHash(quote: TdxQuote): void {
  const data = certData(quote);
  const expected = attestationKeyHashOf(quote, data.qeAuthData);
  const reportData = data.qeReport.reportData;
  if (!timingSafeEqual(reportData.subarray(0, 32), expected)) {
    throw new Error('QE REPORTDATA[0..32] is not SHA-256(attestation key ‖ QE auth data)');
  }
  if (reportData.subarray(32).some((byte) => byte !== 0)) throw new Error('QE REPORTDATA[32..64] is not zero');
}

// SHA-256(attestation key ‖ QE auth data) is a pure function of the quote's bytes; parsed quotes
// are cached by those bytes, so it is computed once per distinct quote.
const attestationKeyHashes = new WeakMap<TdxQuote, Buffer>();

function attestationKeyHashOf(quote: TdxQuote, qeAuthData: Buffer): Buffer {
  let hash = attestationKeyHashes.get(quote);
  if (hash === undefined) {
    hash = createHash('sha256').update(quote.signatureData.attestationKey).update(qeAuthData).digest();
    attestationKeyHashes.set(quote, hash);
  }
  return hash;
}

function masked(value: Buffer, mask: Buffer): Buffer {
  return Buffer.from(value.map((byte, i) => byte & mask[i]));
}

/** Check `qe.identity`: the QE report matches the signed TD_QE identity (mrsigner, isvprodid, masked fields). */
export function checkQeIdentity(quote: TdxQuote, identity: TdQeIdentity): void {
  const report = certData(quote).qeReport;
  if (!report.mrSigner.equals(Buffer.from(identity.mrsigner, 'hex'))) {
    throw new Error(`QE MRSIGNER ${report.mrSigner.toString('hex')} is not ${identity.mrsigner.toLowerCase()}`);
  }
  if (report.isvProdId !== identity.isvprodid) {
    throw new Error(`QE ISVPRODID ${report.isvProdId} is not ${identity.isvprodid}`);
  }
  const misc = Buffer.alloc(4);
  misc.writeUInt32LE(report.miscSelect >>> 0);
  const miscMask = Buffer.from(identity.miscselectMask, 'hex');
  if (!masked(misc, miscMask).equals(masked(Buffer.from(identity.miscselect, 'hex'), miscMask))) {
    throw new Error('QE MISCSELECT does not match the QE identity under its mask');
  }
  const attrMask = Buffer.from(identity.attributesMask, 'hex');
  if (!masked(report.attributes, attrMask).equals(masked(Buffer.from(identity.attributes, 'hex'), attrMask))) {
    throw new Error('QE ATTRIBUTES do not match the QE identity under its mask');
  }
  if (report.attributes[0] & 0x02) throw new Error('QE is a DEBUG enclave');
}

/** Check `quote.signature`: the attestation key signed the header and TD report body. */
export function checkQuoteSignature(quote: TdxQuote): void {
  const { attestationKey, quoteSignature } = quote.signatureData;
  const signed = verifySignatureOnce('tdx-quote', attestationKey, quote.signedRegion, quoteSignature, () =>
    verifyRawEcdsa(publicKeyFromRawPoint(attestationKey), quote.signedRegion, quoteSignature),
  );
  if (!signed) {
    throw new Error(`quote signature does not verify over bytes [0,${quote.signedRegion.length})`);
  }
}

/** Check `td.attributes`: not a DEBUG TD, no reserved TDATTRIBUTES bits, SEAMATTRIBUTES zero. */
export function checkTdAttributes(quote: TdxQuote): string {
  const attributes = quote.body.tdAttributes.readBigUInt64LE(0);
  if (attributes & 1n) throw new Error('TD is in DEBUG mode (TDATTRIBUTES bit 0)');
  const reserved = attributes & 0x7fffffff_2ffffffen;
  if (reserved !== 0n) throw new Error(`reserved TDATTRIBUTES bits set: 0x${reserved.toString(16)}`);
  if (quote.body.seamAttributes.some((byte) => byte !== 0)) throw new Error('SEAMATTRIBUTES is not zero');
  return `tdAttributes ${quote.body.tdAttributes.toString('hex')}`;
}

/** Check `report-data.binding`: REPORTDATA equals the expected 64-byte binding. */
export function checkReportData(quote: TdxQuote, expected: Buffer): void {
  if (expected.length !== 64) throw new Error(`expectedReportData must be 64 bytes, got ${expected.length}`);
  if (!timingSafeEqual(quote.body.reportData, expected))
    throw new Error('REPORTDATA does not equal the expected binding');
}

/** Check `tcb.fmspc`: the PCK's FMSPC and PCE-ID are the ones the tcbInfo describes. */
export function checkFmspc(pck: PckEvidence, tcbInfo: TdxTcbInfo): string {
  const fmspc = pck.extension.fmspc.toString('hex');
  if (fmspc !== tcbInfo.fmspc.toLowerCase()) throw new Error(`PCK FMSPC ${fmspc} is not tcbInfo's ${tcbInfo.fmspc}`);
  const pceId = pck.extension.pceId.toString('hex');
  if (pceId !== tcbInfo.pceId.toLowerCase()) throw new Error(`PCK PCE-ID ${pceId} is not tcbInfo's ${tcbInfo.pceId}`);
  return `fmspc ${fmspc}`;
}
