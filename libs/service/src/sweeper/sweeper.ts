import type { BuildRecord, Store } from '@secure-build/store';

import type { BuildQueue } from '../queue/build-queue';

/** What one sweep did, for logs and tests. */
export interface SweepReport {
  requeued: string[];
  failed: string[];
}

/** Options of the {@link Sweeper}. */
export interface SweeperOptions {
  /** builds younger than this are left alone (their enqueue may still be in flight) */
  graceMs: number;
  maxAttempts: number;
  onEvent?: (event: { type: 'requeued' | 'failed'; buildId: string; reason: string }) => void;
}

/**
 * Reconciles the store (source of truth) with Redis: an accepted build whose job Redis lost is
 * queued again; a build whose job failed for good is marked failed with BullMQ's reason. Safe to run
 * in several processes at once: job ids are deterministic and store transitions are conditional.
 */
export class Sweeper {
  constructor(
    private readonly store: Store,
    private readonly queue: BuildQueue,
    private readonly options: SweeperOptions,
  ) {}

  async sweep(now = new Date()): Promise<SweepReport> {
    const report: SweepReport = { requeued: [], failed: [] };
    const stale = await this.store.builds.unfinished(new Date(now.getTime() - this.options.graceMs), 500);
    for (const build of stale) {
      const job = await this.queue.state(build.id);
      if (job.state === 'missing') {
        if (build.attempts >= this.options.maxAttempts) {
          await this.fail(build, report, 'LOST', `the build's job was lost after ${build.attempts} attempt(s)`);
        } else {
          await this.queue.enqueue(payloadOf(build));
          report.requeued.push(build.id);
          this.options.onEvent?.({ type: 'requeued', buildId: build.id, reason: 'job missing from Redis' });
        }
      } else if (job.state === 'failed') {
        await this.fail(build, report, 'JOB_FAILED', job.reason);
      } else if (job.state === 'completed') {
        await this.fail(build, report, 'INCONSISTENT', 'the job completed without recording a result');
      }
    }
    return report;
  }

  private async fail(build: BuildRecord, report: SweepReport, code: string, reason: string): Promise<void> {
    if (await this.store.builds.fail(build.id, { code, reason })) {
      report.failed.push(build.id);
      this.options.onEvent?.({ type: 'failed', buildId: build.id, reason });
    }
  }
}

function payloadOf(build: BuildRecord) {
  return {
    buildId: build.id,
    repository: build.repository,
    commit: build.commit,
    recipePath: build.recipePath,
    ...(build.ref ? { ref: build.ref } : {}),
    ...(build.imageName ? { imageName: build.imageName } : {}),
  };
}
