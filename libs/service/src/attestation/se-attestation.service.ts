import { createHash, randomUUID, type KeyObject } from 'node:crypto';

import {
  BootHdrTags,
  buildSeAttestationResult,
  computeTeeBinding,
  createAttestationRequest,
  EvidenceContext,
  SeVerifierClient,
  verifySeAttestation,
} from '@secure-build/attestation';
import { BuilderSigningKey, signStatement } from '@secure-build/provenance';

import { ServiceError } from '../service.error';
import { MemorySeRequestStore, SeRequestStore } from './se-request-store';

/** Where the SE attestation service's trust comes from: host keys (machines) and the image's header tags. */
export interface SeAttestationServiceOptions {
  /** P-521 host keys of the machines allowed to run workers (from verified HKD certificates). */
  hostKeys: readonly KeyObject[];
  /** Tags of the worker's SE image header. */
  header: BootHdrTags;
  /** Signs the results; auditors pin its public key (policy se.verifierKeys). */
  signingKey: BuilderSigningKey;
  verifierId: string;
  /** true when the host keys are the simulator's TEST keys */
  simulated: boolean;
  challengeTtlMs?: number;
  now?: () => Date;
  /** where pending requests wait for the answer (default: this process's memory) */
  requests?: SeRequestStore;
}

/**
 * IBM SE evidence can only be checked by whoever created the attestation request (it holds the
 * measurement key), so this service creates requests, verifies the Ultravisor's answer, and signs an
 * attestation result naming the worker key. Each request is single use and expires.
 */
export class SeAttestationService implements SeVerifierClient {
  private readonly requests: SeRequestStore;

  constructor(private readonly options: SeAttestationServiceOptions) {
    this.requests = options.requests ?? new MemorySeRequestStore();
  }

  /** PEM of the key that signs results (GET it once, pin it in policies). */
  get verifierKeyPem(): string {
    return this.options.signingKey.publicKeyPem;
  }

  async challenge(): Promise<{ id: string; requestFile: Buffer }> {
    const request = createAttestationRequest({
      hostKeys: this.options.hostKeys,
      flags: { imagePhkh: true, attestationPhkh: true },
    });
    const id = randomUUID();
    await this.requests.put(id, request.secrets, new Date(this.now() + (this.options.challengeTtlMs ?? 10 * 60_000)));
    return { id, requestFile: request.requestFile };
  }

  async complete(id: string, responseFile: Buffer, context: EvidenceContext): Promise<unknown> {
    const pending = await this.requests.take(id); // single use, whatever the outcome
    if (!pending || pending.expires.getTime() < this.now())
      throw new ServiceError('NOT_FOUND', `attestation request ${id} is unknown, used or expired`);
    const teeBinding = computeTeeBinding({
      purpose: 'worker-key',
      signingKeySpkiDer: context.signingKeySpkiDer,
      ...(context.workerRef ? { workerRef: context.workerRef } : {}),
    });
    const report = verifySeAttestation({
      response: responseFile,
      secrets: pending.secrets,
      header: this.options.header,
      expectedUserData: teeBinding,
    });
    if (!report.ok) {
      const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`);
      throw new ServiceError('FORBIDDEN', `SE attestation failed: ${failed.join('; ')}`);
    }
    const statement = buildSeAttestationResult({
      report,
      workerKeySpkiSha256: createHash('sha256').update(context.signingKeySpkiDer).digest('hex'),
      teeBinding,
      header: this.options.header,
      verifierId: this.options.verifierId,
      simulated: this.options.simulated,
      now: new Date(this.now()),
    });
    return (await signStatement(statement, this.options.signingKey)).bundle;
  }

  private now(): number {
    return (this.options.now ?? (() => new Date()))().getTime();
  }
}
