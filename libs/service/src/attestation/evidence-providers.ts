import {
  createConfigfsTsmProvider,
  createPcsCollateralSource,
  createPvattestPerformer,
  createSeEvidenceProvider,
  createSimulatedSeGuest,
  createSimulatedTdxProvider,
  EvidenceProvider,
  INTEL_PCS_BASE_URL,
  probeConfigfsTsm,
} from '@secure-build/attestation';
import { generateBuilderSigningKey } from '@secure-build/provenance';

import { HttpSeVerifierClient } from './http-se-verifier-client';
import { SeAttestationService } from './se-attestation.service';

/** Which TEE a builder attests with. */
export type TeeKind = 'simulated' | 'se-simulated' | 'tdx' | 'se';

/** An evidence provider plus, for in-process SE, the verifier key auditors must pin. */
export interface SelectedEvidenceProvider {
  provider: EvidenceProvider;
  /** PEM of the SE attestation service key that signed this builder's result (se-simulated only) */
  seVerifierKeyPem?: string;
}

/**
 * Picks the evidence provider for a TEE kind. `tdx` needs a TDX guest with configfs-tsm and reaches
 * Intel PCS (or the PCCS at `pccsUrl`) for collateral; `se-simulated` runs a simulated Ultravisor and an
 * in-process attestation service; remote `se` needs the service's attestation endpoints.
 */
export async function selectEvidenceProvider(
  kind: TeeKind,
  options: {
    pccsUrl?: string;
    verifierId?: string;
    se?: { attestationUrl?: string; token?: string; pvattestPath?: string };
  } = {},
): Promise<SelectedEvidenceProvider> {
  switch (kind) {
    case 'simulated':
      return { provider: createSimulatedTdxProvider() };
    case 'tdx':
      await probeConfigfsTsm();
      return {
        provider: createConfigfsTsmProvider({
          collateral: createPcsCollateralSource({ baseUrl: options.pccsUrl ?? INTEL_PCS_BASE_URL }),
        }),
      };
    case 'se-simulated': {
      const guest = createSimulatedSeGuest();
      const service = new SeAttestationService({
        hostKeys: [guest.hostPublicKey],
        header: guest.header,
        signingKey: generateBuilderSigningKey(),
        verifierId: options.verifierId ?? 'urn:securebuild:se-attestation-service:local',
        simulated: true,
      });
      const performer = { perform: async (request: Buffer, userData: Buffer) => guest.perform(request, userData) };
      return {
        provider: createSeEvidenceProvider({ client: service, performer, simulated: true }),
        seVerifierKeyPem: service.verifierKeyPem,
      };
    }
    case 'se': {
      if (!options.se?.attestationUrl || !options.se.token) {
        throw new Error(
          'SECURE_BUILD_TEE=se needs SECURE_BUILD_ATTESTATION_URL (the API) and SECURE_BUILD_WORKER_TOKEN (scope attestation:write)',
        );
      }
      const performer = createPvattestPerformer(
        options.se.pvattestPath ? { pvattestPath: options.se.pvattestPath } : {},
      );
      return {
        provider: createSeEvidenceProvider({
          client: new HttpSeVerifierClient(options.se.attestationUrl, options.se.token),
          performer,
          simulated: false,
        }),
      };
    }
  }
}
