import type { TdxCollateral } from '../collateral/collateral.types';
import type { SeAttestationEvidence } from '../se/se-evidence.types';

/** Media type of a raw TDX DCAP quote v4 (persistent: stored in provenance byproducts). */
export const TDX_QUOTE_V4_MEDIA_TYPE = 'application/vnd.intel.tdx.quote.v4';

/** TDX evidence: the raw quote plus the collateral needed to verify it offline. */
export interface TdxQuoteEvidence {
  readonly format: 'tdx-quote-v4';
  readonly mediaType: typeof TDX_QUOTE_V4_MEDIA_TYPE;
  readonly quote: Buffer;
  readonly collateral: TdxCollateral;
  /** True when produced by the simulator (no hardware isolation). */
  readonly simulated: boolean;
}

/** Evidence from any TEE, discriminated on `format`. */
export type TeeEvidence = TdxQuoteEvidence | SeAttestationEvidence;

/** What a provider may need besides the report data (IBM SE's verifier checks the key it binds). */
export interface EvidenceContext {
  readonly signingKeySpkiDer: Buffer;
  readonly workerRef?: string;
}

/** Which kind of TEE a provider talks to. */
export type EvidenceProviderTeeType = 'simulated' | 'tdx' | 'se';

/** Port for obtaining evidence whose report data is the given 64-byte binding. */
export interface EvidenceProvider<E extends TeeEvidence = TeeEvidence> {
  readonly teeType: EvidenceProviderTeeType;
  /** Collects fresh evidence with `reportData` (exactly 64 bytes) bound into it. */
  collect(reportData: Buffer, context?: EvidenceContext): Promise<E>;
}
