import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { Store } from '@secure-build/store';

import type { BuildQueue } from '../queue/build-queue';

/** Prometheus metrics shared by the API and the worker (one registry per process). */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly stageDuration = new Histogram({
    name: 'secure_build_stage_duration_seconds',
    help: 'Duration of pipeline stages',
    labelNames: ['stage'],
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800],
    registers: [this.registry],
  });
  readonly failures = new Counter({
    name: 'secure_build_build_failures_total',
    help: 'Failed builds by reason code',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly accepted = new Counter({
    name: 'secure_build_builds_accepted_total',
    help: 'Builds accepted by the API',
    registers: [this.registry],
  });

  /** Adds gauges read at scrape time from the queue and the store (API processes). */
  observeQueueAndStore(queue: BuildQueue, store: Store): void {
    new Gauge({
      name: 'secure_build_queue_jobs',
      help: 'Jobs in the build queue by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const counts = await queue.counts().catch(() => ({}) as Record<string, number>);
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'secure_build_builds',
      help: 'Builds by status',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const counts = await store.builds.countByStatus();
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      },
    });
  }
}
