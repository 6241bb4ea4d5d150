import { QuoteFormatError } from '../errors';
import { splitPemCertificates } from '../pck/pem';
import { QuoteReader } from './byte-reader';
import {
  ATTESTATION_KEY_TYPE_ECDSA_P256,
  BODY_TYPE_SGX,
  BODY_TYPE_TD10,
  BODY_TYPE_TD15,
  CERT_TYPE_PCK_CHAIN,
  CERT_TYPE_QE_REPORT,
  ECDSA_PUBLIC_KEY_BYTES,
  ECDSA_SIGNATURE_BYTES,
  TD_REPORT10_BYTES,
  TD_REPORT15_BYTES,
  TDX_QUOTE_MAX_BYTES,
  TEE_TYPE_TDX,
} from './constants';
import type { PckCertChainData, QeReportCertificationData, TdxQuote, TdxQuoteHeader } from './quote.types';
import { decodeQeReport, decodeTdReport } from './report-layouts';

function parseHeader(r: QuoteReader): TdxQuoteHeader {
  const version = r.u16('header.version');
  if (version !== 4 && version !== 5) throw new QuoteFormatError('header.version', 0, `unsupported version ${version}`);
  const attestationKeyType = r.u16('header.attestationKeyType');
  if (attestationKeyType !== ATTESTATION_KEY_TYPE_ECDSA_P256) {
    throw new QuoteFormatError('header.attestationKeyType', 2, `${attestationKeyType} is not 2 (ECDSA P-256)`);
  }
  const teeType = r.u32('header.teeType');
  if (teeType !== TEE_TYPE_TDX) {
    throw new QuoteFormatError('header.teeType', 4, `0x${teeType.toString(16)} is not 0x81 (TDX)`);
  }
  return {
    version,
    attestationKeyType,
    teeType,
    reserved: r.take(4, 'header.reserved'),
    qeVendorId: r.take(16, 'header.qeVendorId'),
    userData: r.take(20, 'header.userData'),
  };
}

function parseBodyType(r: QuoteReader, version: 4 | 5): 2 | 3 {
  if (version === 4) return BODY_TYPE_TD10;
  const type = r.u16('body.descriptor.type');
  const size = r.u32('body.descriptor.size');
  if (type === BODY_TYPE_SGX) throw new QuoteFormatError('body.descriptor.type', 48, 'SGX body in a TDX (0x81) quote');
  if (type !== BODY_TYPE_TD10 && type !== BODY_TYPE_TD15) {
    throw new QuoteFormatError('body.descriptor.type', 48, `unknown body type ${type}`);
  }
  const expected = type === BODY_TYPE_TD10 ? TD_REPORT10_BYTES : TD_REPORT15_BYTES;
  if (size !== expected) {
    throw new QuoteFormatError(
      'body.descriptor.size',
      50,
      `size ${size} does not match body type ${type} (${expected})`,
    );
  }
  return type;
}

function parsePckChain(r: QuoteReader): PckCertChainData {
  const typeOffset = r.offset;
  const type = r.u16('certificationData.pckCertChain.type');
  if (type !== CERT_TYPE_PCK_CHAIN) {
    throw new QuoteFormatError('certificationData.pckCertChain.type', typeOffset, `${type} is not 5 (PCK chain)`);
  }
  const size = r.u32('certificationData.pckCertChain.size');
  const dataOffset = r.offset;
  const data = r.nested(size, 'certificationData.pckCertChain.size', 'PCK chain').take(size, 'pckCertChain.data');
  r.offset += size;
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end -= 1;
  const text = data.subarray(0, end).toString('latin1');
  const split = splitPemCertificates(text);
  if (split.strayIndex !== undefined) {
    throw new QuoteFormatError('certificationData.pckCertChain.data', dataOffset + split.strayIndex, 'not PEM');
  }
  if (split.certificates.length === 0) {
    throw new QuoteFormatError('certificationData.pckCertChain.data', dataOffset, 'no certificate in PCK chain');
  }
  return { type: CERT_TYPE_PCK_CHAIN, data, certificatesPem: split.certificates };
}

function parseCertificationData(r: QuoteReader): QeReportCertificationData {
  const typeOffset = r.offset;
  const type = r.u16('certificationData.type');
  if (type !== CERT_TYPE_QE_REPORT) {
    throw new QuoteFormatError('certificationData.type', typeOffset, `${type} is not 6 (QE report certification data)`);
  }
  const size = r.u32('certificationData.size');
  const inner = r.nested(size, 'certificationData.size', 'certification data');
  const qeReport = decodeQeReport(inner);
  const qeReportSignature = inner.take(ECDSA_SIGNATURE_BYTES, 'certificationData.qeReportSignature');
  const authSize = inner.u16('certificationData.qeAuthData.size');
  const qeAuthData = inner.take(authSize, 'certificationData.qeAuthData');
  const pckCertChain = parsePckChain(inner);
  inner.expectEnd('certificationData.size');
  r.offset = inner.end;
  return { type: CERT_TYPE_QE_REPORT, qeReport, qeReportSignature, qeAuthData, pckCertChain };
}

/**
 * Parses a TDX DCAP quote (v4, or v5 with a TD 1.0/1.5 body), enforcing every structural rule: version,
 * key type, TEE type, body descriptor, outer type 6, inner type 5, nested sizes that consume their
 * envelopes exactly, the 8 KiB ceiling, and zero-only padding. Throws QuoteFormatError.
 */
export function parseTdxQuote(bytes: Buffer): TdxQuote {
  if (!Buffer.isBuffer(bytes)) throw new QuoteFormatError('quote', 0, 'input is not a Buffer');
  if (bytes.length > TDX_QUOTE_MAX_BYTES) {
    throw new QuoteFormatError('quote', TDX_QUOTE_MAX_BYTES, `${bytes.length} bytes exceed ${TDX_QUOTE_MAX_BYTES}`);
  }
  const r = new QuoteReader(bytes, 0, bytes.length, 'the quote');
  const header = parseHeader(r);
  const bodyType = parseBodyType(r, header.version);
  const body = decodeTdReport(r, bodyType);
  const signedLength = r.offset;
  const sigSize = r.u32('signatureData.size');
  const sig = r.nested(sigSize, 'signatureData.size', 'the signature data');
  const quoteSignature = sig.take(ECDSA_SIGNATURE_BYTES, 'signatureData.quoteSignature');
  const attestationKey = sig.take(ECDSA_PUBLIC_KEY_BYTES, 'signatureData.attestationKey');
  const certificationData = parseCertificationData(sig);
  sig.expectEnd('signatureData.size');
  const quoteLength = sig.end;
  const stray = bytes.subarray(quoteLength).findIndex((byte) => byte !== 0);
  if (stray >= 0) throw new QuoteFormatError('padding', quoteLength + stray, 'non-zero byte after the signature data');
  return {
    header,
    body,
    signatureData: { quoteSignature, attestationKey, certificationData },
    signedRegion: Buffer.from(bytes.subarray(0, signedLength)),
    quoteLength,
    paddingLength: bytes.length - quoteLength,
  };
}
