import { createSimulatedTdxQuoter, type SimulatedTdxQuoterOptions } from '../simulator/simulated-quoter';
import { TDX_QUOTE_V4_MEDIA_TYPE, type EvidenceProvider, type TdxQuoteEvidence } from './evidence.types';

/** An EvidenceProvider backed by the TDX simulator (one simulated boot = one attestation key). */
export function createSimulatedTdxProvider(
  options: SimulatedTdxQuoterOptions = {},
): EvidenceProvider<TdxQuoteEvidence> {
  const quoter = createSimulatedTdxQuoter(options);
  return {
    teeType: 'simulated',
    async collect(reportData: Buffer): Promise<TdxQuoteEvidence> {
      const { quote, collateral } = await quoter.quote(reportData);
      return { format: 'tdx-quote-v4', mediaType: TDX_QUOTE_V4_MEDIA_TYPE, quote, collateral, simulated: true };
    },
  };
}
