/** Quotes above this size are CBOR Web Tokens on DICE platforms, not DCAP quotes. */
export const TDX_QUOTE_MAX_BYTES = 8192;
/** Quote header size (v4 and v5). */
export const QUOTE_HEADER_BYTES = 48;
/** TD report 1.0 body size (v4, and v5 body type 2). */
export const TD_REPORT10_BYTES = 584;
/** TD report 1.5 body size (v5 body type 3). */
export const TD_REPORT15_BYTES = 648;
/** SGX report body size (the QE report). */
export const SGX_REPORT_BYTES = 384;
/** Raw ECDSA P-256 signature r‖s. */
export const ECDSA_SIGNATURE_BYTES = 64;
/** Raw ECDSA P-256 public key x‖y. */
export const ECDSA_PUBLIC_KEY_BYTES = 64;
/** Header att_key_type for ECDSA P-256, the only one accepted. */
export const ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
/** Header tee_type of TDX. */
export const TEE_TYPE_TDX = 0x81;
/** Outer certification data type: QE report certification data. */
export const CERT_TYPE_QE_REPORT = 6;
/** Inner certification data type: PCK leaf ‖ CA ‖ root as PEM. */
export const CERT_TYPE_PCK_CHAIN = 5;
/** v5 body descriptor type of an SGX enclave report (refused in TDX quotes). */
export const BODY_TYPE_SGX = 1;
/** v5 body descriptor type of a TD report 1.0. */
export const BODY_TYPE_TD10 = 2;
/** v5 body descriptor type of a TD report 1.5. */
export const BODY_TYPE_TD15 = 3;
/** Intel's QE vendor ID (header offset 12). */
export const INTEL_QE_VENDOR_ID = Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex');
