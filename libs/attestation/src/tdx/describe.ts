import { parseCertificate } from '../pck/certificates';
import type { TdxQuote } from './quote.types';

/** Subject, issuer and validity of one certificate in a summary. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
}

/** JSON-friendly summary of a TDX quote (hex strings, numbers, booleans only). */
export interface TdxQuoteDescription {
  readonly header: {
    readonly version: number;
    readonly attestationKeyType: number;
    readonly teeType: string;
    readonly qeVendorId: string;
    readonly qeId: string;
  };
  readonly td: {
    readonly bodyType: 'td-report-1.0' | 'td-report-1.5';
    readonly teeTcbSvn: string;
    readonly mrSeam: string;
    readonly mrSignerSeam: string;
    readonly seamAttributes: string;
    readonly tdAttributes: { readonly hex: string; readonly debug: boolean; readonly septVeDisable: boolean };
    readonly xfam: string;
    readonly mrTd: string;
    readonly mrConfigId: string;
    readonly mrOwner: string;
    readonly mrOwnerConfig: string;
    readonly rtmr0: string;
    readonly rtmr1: string;
    readonly rtmr2: string;
    readonly rtmr3: string;
    readonly reportData: string;
    readonly teeTcbSvn2?: string;
    readonly mrServiceTd?: string;
  };
  readonly certificationData: {
    readonly type: number;
    readonly qeReport: {
      readonly mrEnclave: string;
      readonly mrSigner: string;
      readonly isvProdId: number;
      readonly isvSvn: number;
      readonly attributes: string;
      readonly reportData: string;
    };
    readonly qeAuthDataLength: number;
    readonly pckChain: { readonly type: number; readonly certificates: (CertificateSummary | { error: string })[] };
  };
  readonly quoteLength: number;
  readonly paddingLength: number;
}

function summarize(pem: string): CertificateSummary | { error: string } {
  try {
    const cert = parseCertificate(pem);
    return {
      subject: cert.x509.subject.replace(/\n/g, ', '),
      issuer: cert.x509.issuer.replace(/\n/g, ', '),
      serialNumber: cert.x509.serialNumber.toLowerCase(),
      notBefore: new Date(cert.x509.validFrom).toISOString(),
      notAfter: new Date(cert.x509.validTo).toISOString(),
      fingerprintSha256: cert.fingerprintSha256,
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Summarizes a parsed quote for logs, CLIs and verification reports. */
export function describeTdxQuote(quote: TdxQuote): TdxQuoteDescription {
  const { header, body } = quote;
  const cert = quote.signatureData.certificationData;
  const hex = (value: Buffer): string => value.toString('hex');
  return {
    header: {
      version: header.version,
      attestationKeyType: header.attestationKeyType,
      teeType: `0x${header.teeType.toString(16)}`,
      qeVendorId: hex(header.qeVendorId),
      qeId: hex(header.userData.subarray(0, 16)),
    },
    td: {
      bodyType: body.bodyType === 3 ? 'td-report-1.5' : 'td-report-1.0',
      teeTcbSvn: hex(body.teeTcbSvn),
      mrSeam: hex(body.mrSeam),
      mrSignerSeam: hex(body.mrSignerSeam),
      seamAttributes: hex(body.seamAttributes),
      tdAttributes: {
        hex: hex(body.tdAttributes),
        debug: (body.tdAttributes[0] & 0x01) !== 0,
        septVeDisable: (body.tdAttributes[3] & 0x10) !== 0,
      },
      xfam: hex(body.xfam),
      mrTd: hex(body.mrTd),
      mrConfigId: hex(body.mrConfigId),
      mrOwner: hex(body.mrOwner),
      mrOwnerConfig: hex(body.mrOwnerConfig),
      rtmr0: hex(body.rtmr0),
      rtmr1: hex(body.rtmr1),
      rtmr2: hex(body.rtmr2),
      rtmr3: hex(body.rtmr3),
      reportData: hex(body.reportData),
      teeTcbSvn2: body.teeTcbSvn2 ? hex(body.teeTcbSvn2) : undefined,
      mrServiceTd: body.mrServiceTd ? hex(body.mrServiceTd) : undefined,
    },
    certificationData: {
      type: cert.type,
      qeReport: {
        mrEnclave: hex(cert.qeReport.mrEnclave),
        mrSigner: hex(cert.qeReport.mrSigner),
        isvProdId: cert.qeReport.isvProdId,
        isvSvn: cert.qeReport.isvSvn,
        attributes: hex(cert.qeReport.attributes),
        reportData: hex(cert.qeReport.reportData),
      },
      qeAuthDataLength: cert.qeAuthData.length,
      pckChain: { type: cert.pckCertChain.type, certificates: cert.pckCertChain.certificatesPem.map(summarize) },
    },
    quoteLength: quote.quoteLength,
    paddingLength: quote.paddingLength,
  };
}
