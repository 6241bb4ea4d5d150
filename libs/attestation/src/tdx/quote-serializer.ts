import { QuoteFormatError } from '../errors';
import {
  ATTESTATION_KEY_TYPE_ECDSA_P256,
  CERT_TYPE_PCK_CHAIN,
  CERT_TYPE_QE_REPORT,
  ECDSA_PUBLIC_KEY_BYTES,
  ECDSA_SIGNATURE_BYTES,
  QUOTE_HEADER_BYTES,
  TD_REPORT10_BYTES,
  TD_REPORT15_BYTES,
  TEE_TYPE_TDX,
} from './constants';
import type { TdxQuoteHeader, TdxQuoteParts, TdReportBody } from './quote.types';
import { encodeQeReport, encodeTdReport } from './report-layouts';

const u16 = (value: number): Buffer => {
  const out = Buffer.alloc(2);
  out.writeUInt16LE(value);
  return out;
};
const u32 = (value: number): Buffer => {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
};

function fixed(value: Buffer, length: number, field: string, offset: number): Buffer {
  if (!Buffer.isBuffer(value) || value.length !== length) {
    throw new QuoteFormatError(field, offset, `must be a Buffer of ${length} bytes`);
  }
  return value;
}

function encodeHeader(header: TdxQuoteHeader): Buffer {
  if (header.version !== 4 && header.version !== 5) {
    throw new QuoteFormatError('header.version', 0, `unsupported version ${String(header.version)}`);
  }
  if (header.attestationKeyType !== ATTESTATION_KEY_TYPE_ECDSA_P256) {
    throw new QuoteFormatError('header.attestationKeyType', 2, 'must be 2 (ECDSA P-256)');
  }
  if (header.teeType !== TEE_TYPE_TDX) throw new QuoteFormatError('header.teeType', 4, 'must be 0x81 (TDX)');
  const out = Buffer.concat([
    u16(header.version),
    u16(header.attestationKeyType),
    u32(header.teeType),
    fixed(header.reserved, 4, 'header.reserved', 8),
    fixed(header.qeVendorId, 16, 'header.qeVendorId', 12),
    fixed(header.userData, 20, 'header.userData', 28),
  ]);
  return out;
}

/** Encodes header ‖ [v5 descriptor] ‖ body: exactly the bytes the attestation key signs. */
export function serializeSignedRegion(header: TdxQuoteHeader, body: TdReportBody): Buffer {
  if (header.version === 4 && body.bodyType !== 2) {
    throw new QuoteFormatError('body.bodyType', QUOTE_HEADER_BYTES, 'v4 quotes carry a TD 1.0 body');
  }
  const descriptor =
    header.version === 5
      ? Buffer.concat([u16(body.bodyType), u32(body.bodyType === 3 ? TD_REPORT15_BYTES : TD_REPORT10_BYTES)])
      : Buffer.alloc(0);
  const base = QUOTE_HEADER_BYTES + descriptor.length;
  return Buffer.concat([encodeHeader(header), descriptor, encodeTdReport(body, base)]);
}

/** Encodes a quote from its parts; `parseTdxQuote(serializeTdxQuote(q))` round-trips byte for byte. */
export function serializeTdxQuote(parts: TdxQuoteParts): Buffer {
  const signed = serializeSignedRegion(parts.header, parts.body);
  const sig = parts.signatureData;
  const cert = sig.certificationData;
  if (cert.type !== CERT_TYPE_QE_REPORT) throw new QuoteFormatError('certificationData.type', 0, 'must be 6');
  if (cert.pckCertChain.type !== CERT_TYPE_PCK_CHAIN) {
    throw new QuoteFormatError('certificationData.pckCertChain.type', 0, 'must be 5');
  }
  const sigStart = signed.length + 4;
  const certStart = sigStart + 2 * ECDSA_SIGNATURE_BYTES + 6;
  if (cert.qeAuthData.length > 0xffff) {
    throw new QuoteFormatError('certificationData.qeAuthData', certStart + 448, 'longer than 65535 bytes');
  }
  const certBody = Buffer.concat([
    encodeQeReport(cert.qeReport, certStart),
    fixed(cert.qeReportSignature, ECDSA_SIGNATURE_BYTES, 'certificationData.qeReportSignature', certStart + 384),
    u16(cert.qeAuthData.length),
    cert.qeAuthData,
    u16(CERT_TYPE_PCK_CHAIN),
    u32(cert.pckCertChain.data.length),
    cert.pckCertChain.data,
  ]);
  const sigData = Buffer.concat([
    fixed(sig.quoteSignature, ECDSA_SIGNATURE_BYTES, 'signatureData.quoteSignature', sigStart),
    fixed(sig.attestationKey, ECDSA_PUBLIC_KEY_BYTES, 'signatureData.attestationKey', sigStart + 64),
    u16(CERT_TYPE_QE_REPORT),
    u32(certBody.length),
    certBody,
  ]);
  return Buffer.concat([signed, u32(sigData.length), sigData]);
}
