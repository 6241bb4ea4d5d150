/** The 48-byte quote header (v4 and v5). */
export interface TdxQuoteHeader {
  readonly version: 4 | 5;
  /** 2 = ECDSA P-256 (the only accepted value). */
  readonly attestationKeyType: number;
  /** 0x81 = TDX (the only accepted value). */
  readonly teeType: number;
  /** 4 reserved bytes at offset 8 (QE/PCE SVN in v3 quotes). */
  readonly reserved: Buffer;
  readonly qeVendorId: Buffer;
  /** 20 bytes: 16-byte QE ID followed by 4 zero bytes. */
  readonly userData: Buffer;
}

/** TD report body: TD 1.0 (584 bytes, body type 2) or TD 1.5 (648 bytes, body type 3, v5 only). */
export interface TdReportBody {
  readonly bodyType: 2 | 3;
  readonly teeTcbSvn: Buffer;
  readonly mrSeam: Buffer;
  readonly mrSignerSeam: Buffer;
  readonly seamAttributes: Buffer;
  readonly tdAttributes: Buffer;
  readonly xfam: Buffer;
  readonly mrTd: Buffer;
  readonly mrConfigId: Buffer;
  readonly mrOwner: Buffer;
  readonly mrOwnerConfig: Buffer;
  readonly rtmr0: Buffer;
  readonly rtmr1: Buffer;
  readonly rtmr2: Buffer;
  readonly rtmr3: Buffer;
  readonly reportData: Buffer;
  /** TD 1.5 only. */
  readonly teeTcbSvn2?: Buffer;
  /** TD 1.5 only. */
  readonly mrServiceTd?: Buffer;
}

/** The 384-byte SGX report body of the quoting enclave, including reserved regions (lossless). */
export interface QeReport {
  readonly cpuSvn: Buffer;
  readonly miscSelect: number;
  readonly reserved1: Buffer;
  readonly attributes: Buffer;
  readonly mrEnclave: Buffer;
  readonly reserved2: Buffer;
  readonly mrSigner: Buffer;
  readonly reserved3: Buffer;
  readonly configId: Buffer;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly reserved4: Buffer;
  readonly isvFamilyId: Buffer;
  readonly reportData: Buffer;
}

/** Inner certification data type 5: the PCK chain as PEM. */
export interface PckCertChainData {
  readonly type: 5;
  /** The declared M bytes exactly as carried (usually PEM text plus one NUL). */
  readonly data: Buffer;
  /** PEM blocks (leaf, Platform/Processor CA, root) after stripping the trailing NUL; derived, so
   *  `serializeTdxQuote` ignores it and writes `data`. */
  readonly certificatesPem: readonly string[];
}

/** Outer certification data type 6: QE report certification data. */
export interface QeReportCertificationData {
  readonly type: 6;
  readonly qeReport: QeReport;
  readonly qeReportSignature: Buffer;
  readonly qeAuthData: Buffer;
  readonly pckCertChain: PckCertChainData;
}

/** ECDSA quote signature data (v4 layout, also used by v5). */
export interface TdxSignatureData {
  /** Raw r‖s over the signed region, by the attestation key. */
  readonly quoteSignature: Buffer;
  /** Raw x‖y of the attestation key. */
  readonly attestationKey: Buffer;
  readonly certificationData: QeReportCertificationData;
}

/** The inputs of `serializeTdxQuote`. */
export interface TdxQuoteParts {
  readonly header: TdxQuoteHeader;
  readonly body: TdReportBody;
  readonly signatureData: TdxSignatureData;
}

/** A parsed TDX quote. */
export interface TdxQuote extends TdxQuoteParts {
  /** Bytes covered by the quote signature: `[0,632)` for v4. */
  readonly signedRegion: Buffer;
  /** Bytes up to the end of the declared signature data (padding excluded). */
  readonly quoteLength: number;
  /** Zero bytes accepted after the declared signature data; never used in computations. */
  readonly paddingLength: number;
}
