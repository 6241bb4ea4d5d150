import { Queue } from 'bullmq';

import { Batcher } from '@secure-build/common';
import { buildJobId, BuildJobName, RunBuildPayload, runBuildJobOptions } from '@secure-build/queue';

/** Where a build's job is in Redis; `missing` means Redis lost it (restart, flush, eviction). */
export type BuildJobState =
  | { state: 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' }
  | { state: 'failed'; reason: string; attemptsMade: number }
  | { state: 'missing' };

/** Port over the build queue so services do not depend on BullMQ details. */
export interface BuildQueue {
  /** Adds the job; a no-op when a job for this build already exists (idempotent id). */
  enqueue(payload: RunBuildPayload): Promise<void>;
  state(buildId: string): Promise<BuildJobState>;
  /** Removes a job that no worker holds; false when it is active or gone. */
  remove(buildId: string): Promise<boolean>;
  /** Jobs per state, for metrics. */
  counts(): Promise<Record<string, number>>;
  ping(): Promise<void>;
}

/** BullMQ implementation of {@link BuildQueue}. */
export class BullBuildQueue implements BuildQueue {
  // Concurrent submissions share one pipeline (addBulk): one write and one round trip for many jobs.
  private readonly adds = new Batcher<RunBuildPayload, void>(
    async (payloads) => {
      await this.queue.addBulk(
        payloads.map((data) => ({
          name: BuildJobName.Run,
          data,
          opts: runBuildJobOptions(data.buildId, this.attempts),
        })),
      );
      return payloads.map(() => undefined);
    },
    { maxBatch: 256, maxInFlight: 1 },
  );

  constructor(
    private readonly queue: Queue,
    private readonly attempts: number,
  ) {}

  enqueue(payload: RunBuildPayload): Promise<void> {
    return this.adds.submit(payload);
  }

  async state(buildId: string): Promise<BuildJobState> {
    const job = await this.queue.getJob(buildJobId(buildId));
    if (!job) return { state: 'missing' };
    const state = await job.getState();
    if (state === 'failed') return { state, reason: job.failedReason ?? 'failed', attemptsMade: job.attemptsMade };
    if (state === 'unknown') return { state: 'missing' };
    return { state };
  }

  async remove(buildId: string): Promise<boolean> {
    const job = await this.queue.getJob(buildJobId(buildId));
    if (!job) return false;
    try {
      await job.remove();
      return true;
    } catch {
      return false; // locked by a worker: the worker sees the cancellation instead
    }
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  }

  async ping(): Promise<void> {
    // A real round trip to Redis (waitUntilReady only awaits the first connection).
    await this.queue.getJobCountByTypes('waiting');
  }
}
