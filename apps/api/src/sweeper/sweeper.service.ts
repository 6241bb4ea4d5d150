import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import type { AppConfig } from '@secure-build/config';
import { APP_CONFIG, BUILD_QUEUE, STORE } from '@secure-build/nest';
import { BuildQueue, Sweeper } from '@secure-build/service';
import type { Store } from '@secure-build/store';

/** Runs the reconciling sweeper on an interval in every API process (it is safe to run concurrently). */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SweeperService.name);
  private readonly sweeper: Sweeper;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORE) store: Store,
    @Inject(BUILD_QUEUE) queue: BuildQueue,
  ) {
    this.sweeper = new Sweeper(store, queue, {
      graceMs: config.sweeper.graceMs,
      maxAttempts: config.queue.attempts,
      onEvent: (event) =>
        this.logger.warn({ message: `sweeper ${event.type} build`, buildId: event.buildId, reason: event.reason }),
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.sweeper.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sweeper
      .sweep()
      .catch((error: unknown) =>
        this.logger.warn({ message: 'sweep failed; will retry', error: (error as Error).message }),
      )
      .finally(() => (this.running = undefined));
  }
}
