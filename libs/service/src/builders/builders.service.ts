import type { Store } from '@secure-build/store';

/** A worker's signing key and the TEE evidence that binds it, as registered at worker start. */
export interface BuilderView {
  keySha256: string;
  publicKeyPem: string;
  teeType: string;
  builderId: string;
  workerId: string;
  evidence: unknown;
  /** the service's verdict: only trusted builders take builds */
  status: string;
  /** TEE, TCB status, measurements and failed checks behind the verdict */
  assessment: unknown;
  firstSeen: string;
  lastSeen: string;
}

/** Lists registered builders (GET /v1/builders). */
export class BuildersService {
  constructor(private readonly store: Store) {}

  async list(): Promise<BuilderView[]> {
    const builders = await this.store.builders.list();
    return builders.map((b) => ({
      keySha256: b.keySha256,
      publicKeyPem: b.publicKeyPem,
      teeType: b.teeType,
      builderId: b.builderId,
      workerId: b.workerId,
      evidence: b.evidence,
      status: b.status,
      assessment: b.assessment,
      firstSeen: b.firstSeen.toISOString(),
      lastSeen: b.lastSeen.toISOString(),
    }));
  }
}
