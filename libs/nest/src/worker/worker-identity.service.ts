import { readFile } from 'node:fs/promises';

import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

import { BuilderIdentity, establishBuilderIdentity } from '@secure-build/build';
import type { AppConfig } from '@secure-build/config';
import { BuilderPolicy, defaultBuilderPolicy, parseBuilderPolicy } from '@secure-build/provenance';
import { registerBuilder, selectEvidenceProvider } from '@secure-build/service';
import type { Store } from '@secure-build/store';

import { APP_CONFIG, STORE } from '../injection-tokens';

const HEARTBEAT_MS = 30_000;

/**
 * The worker's TEE identity: a signing key generated in memory at start and evidence binding it.
 * Jobs are only taken once it exists; it is published for GET /v1/builders and refreshed by heartbeat.
 */
@Injectable()
export class WorkerIdentityService implements OnApplicationShutdown {
  private readonly logger = new Logger(WorkerIdentityService.name);
  private identity?: BuilderIdentity;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORE) private readonly store: Store,
  ) {}

  async establish(): Promise<BuilderIdentity> {
    if (this.identity) return this.identity;
    const { provider } = await selectEvidenceProvider(this.config.tee, {
      pccsUrl: this.config.pccsUrl,
      se: this.config.seWorker,
    });
    const identity = await establishBuilderIdentity(provider);
    const assessment = await registerBuilder(
      this.store,
      identity,
      this.config.worker.id,
      await loadBuilderPolicy(this.config),
    );
    if (!assessment.trusted) {
      const failed = assessment.failed.map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; ');
      throw new Error(`this worker's TEE evidence fails the builder policy, so it takes no builds: ${failed}`);
    }
    this.heartbeat = setInterval(
      () => void this.store.builders.touch(identity.key.spkiSha256).catch(() => undefined),
      HEARTBEAT_MS,
    );
    this.heartbeat.unref();
    this.logger.log({
      message: 'builder identity ready',
      tee: identity.tee,
      signingKeySha256: identity.key.spkiSha256,
      workerId: this.config.worker.id,
    });
    this.identity = identity;
    return identity;
  }

  onApplicationShutdown(): void {
    clearInterval(this.heartbeat);
  }
}

/** The builder policy file, or the default: hardware only unless this deployment runs the simulator. */
async function loadBuilderPolicy(config: AppConfig): Promise<BuilderPolicy> {
  if (!config.builderPolicyFile) return defaultBuilderPolicy(config.tee === 'simulated');
  return parseBuilderPolicy(await readFile(config.builderPolicyFile, 'utf8'), config.builderPolicyFile);
}
