import { AttestationInputError } from '../errors';
import type { EvidenceContext, EvidenceProvider } from '../evidence/evidence.types';
import type { SeAttestationPerformer } from './pvattest-provider';
import { SE_ATTESTATION_RESULT_MEDIA_TYPE, type SeAttestationEvidence } from './se-evidence.types';

/** The attestation service as an SE guest sees it: it issues requests and signs verified results. */
export interface SeVerifierClient {
  /** A fresh attestation request (pvattest exchange file) and its id. */
  challenge(): Promise<{ id: string; requestFile: Buffer }>;
  /** Hands back the response; the verifier checks it and returns its signed result (a Sigstore bundle). */
  complete(id: string, responseFile: Buffer, context: EvidenceContext): Promise<unknown>;
}

/**
 * Evidence provider for IBM Secure Execution guests: the report data (the 64-byte binding) goes into the
 * SE user data, the Ultravisor measures it, and the attestation service, the only party able to check
 * the HMAC, returns its signed verdict, which builds carry in place of a quote.
 */
export function createSeEvidenceProvider(options: {
  client: SeVerifierClient;
  performer: SeAttestationPerformer;
  simulated: boolean;
}): EvidenceProvider {
  return {
    teeType: 'se',
    async collect(reportData: Buffer, context?: EvidenceContext): Promise<SeAttestationEvidence> {
      if (reportData.length !== 64)
        throw new AttestationInputError('SE evidence: report data must be exactly 64 bytes');
      if (!context)
        throw new AttestationInputError('SE evidence: the verifier needs the signing key the report data binds');
      const { id, requestFile } = await options.client.challenge();
      const response = await options.performer.perform(requestFile, reportData);
      const result = await options.client.complete(id, response, context);
      return {
        format: 'ibm-se-attestation-result',
        mediaType: SE_ATTESTATION_RESULT_MEDIA_TYPE,
        result,
        simulated: options.simulated,
      };
    },
  };
}
