import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';

import { BUILD_QUEUE, STORE } from '@secure-build/nest';
import type { BuildQueue } from '@secure-build/service';
import type { Store } from '@secure-build/store';

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(STORE) private readonly store: Store,
    @Inject(BUILD_QUEUE) private readonly queue: BuildQueue,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: Redis and the database answer. */
  @Get('readyz')
  @HealthCheck()
  readyz() {
    return this.health.check([
      () => this.probe('redis', () => this.queue.ping()),
      () => this.probe('database', () => this.store.ping()),
    ]);
  }

  private async probe(key: string, ping: () => Promise<void>) {
    const indicator = this.indicators.check(key);
    try {
      await withTimeout(ping(), 2000);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}
