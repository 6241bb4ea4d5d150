import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, UnrecoverableError, WaitingError } from 'bullmq';

import type { AppConfig } from '@secure-build/config';
import { BuildJobName, InvalidJobError, parseBuildJob } from '@secure-build/queue';
import { BuildInterrupted, BuildRunFailed, BuildRunner, ServiceMetrics } from '@secure-build/service';
import type { Store } from '@secure-build/store';

import { APP_CONFIG, STORE } from '../injection-tokens';
import { secureBuildVersion } from '@secure-build/common';
import { registryAccessFromConfig } from './registry-access';
import { WorkerIdentityService } from './worker-identity.service';

/**
 * Consumes build jobs. Thin by design: validate the job (Redis is a trust boundary), run it, and let
 * failures reach BullMQ so attempts and reasons are recorded. Registered with its @Processor
 * options at boot by WorkerModule, because they come from configuration.
 */
@Injectable()
export class BuildProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BuildProcessor.name);
  private readonly shutdown = new AbortController();
  private runner?: BuildRunner;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORE) private readonly store: Store,
    private readonly identity: WorkerIdentityService,
    private readonly metrics: ServiceMetrics,
  ) {
    super();
  }

  /** Takes jobs only once the TEE identity exists (the worker is created with autorun off). */
  async onApplicationBootstrap(): Promise<void> {
    const identity = await this.identity.establish();
    this.runner = new BuildRunner(
      this.store,
      identity,
      {
        dataDir: this.config.dataDir,
        workerId: this.config.worker.id,
        publicUrl: this.config.publicUrl,
        allowLocalRepos: this.config.allowLocalRepos,
        insecureNoSandbox: this.config.insecureNoSandbox,
        rebuild: this.config.rebuild,
        perBuildEvidence: this.config.perBuildEvidence,
        builderVersion: { 'secure-build': secureBuildVersion() },
        registries: registryAccessFromConfig(this.config),
      },
      this.metrics,
    );
    void this.worker
      .run()
      .catch((error: unknown) => this.logger.error({ message: 'worker stopped', error: String(error) }));
  }

  /** Running builds are killed and their jobs go back to the queue, without using an attempt. */
  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }

  async process(job: Job, token?: string): Promise<string> {
    const context = {
      buildId: (job.data as { buildId?: unknown })?.buildId,
      jobId: job.id,
      attempt: job.attemptsMade + 1,
    };
    let parsed;
    try {
      parsed = parseBuildJob(job.name, job.data);
    } catch (error) {
      if (error instanceof InvalidJobError) throw new UnrecoverableError(error.message);
      throw error;
    }
    if (!this.runner) throw new Error('worker identity not ready');
    switch (parsed.name) {
      case BuildJobName.Run: {
        this.logger.log({ message: 'build started', ...context });
        const started = Date.now();
        try {
          const outcome = await this.runner.run(parsed.data, {
            attempt: job.attemptsMade + 1,
            maxAttempts: job.opts.attempts ?? 1,
            shutdown: this.shutdown.signal,
          });
          this.logger.log({ message: `build ${outcome}`, durationMs: Date.now() - started, ...context });
          return outcome;
        } catch (error) {
          if (error instanceof BuildInterrupted && token) {
            await job.moveToWait(token);
            this.logger.warn({ message: 'build returned to the queue (shutdown)', ...context });
            throw new WaitingError();
          }
          this.logger.error({ message: 'build failed', reason: (error as Error).message, ...context });
          if (error instanceof BuildRunFailed && !error.retryable)
            throw new UnrecoverableError(`[${error.code}] ${error.message}`);
          throw error;
        }
      }
    }
  }

  @OnWorkerEvent('stalled')
  onStalled(jobId: string): void {
    this.logger.warn({ message: 'job stalled (worker lost); BullMQ will retry it', jobId });
  }
}
