/**
 * DCAP collateral for one TDX quote, in exactly the JSON shape of Intel PCS/PCCS responses as stored
 * by dcap-qvl (`tdx_quote_collateral.json`): issuer chains as PEM, CRLs as hex DER, tcbInfo and QE
 * identity as the exact JSON strings their hex r‖s signatures cover. Real and simulated evidence
 * share this shape and one verification path. Field names are persistent data: do not rename.
 */
export interface TdxCollateral {
  readonly pck_crl_issuer_chain: string;
  readonly root_ca_crl: string;
  readonly pck_crl: string;
  readonly tcb_info_issuer_chain: string;
  readonly tcb_info: string;
  readonly tcb_info_signature: string;
  readonly qe_identity_issuer_chain: string;
  readonly qe_identity: string;
  readonly qe_identity_signature: string;
}

/** TCB status values of Intel tcbInfo / QE identity levels. */
export type TcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked';
