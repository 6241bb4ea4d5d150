import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

import { BuildJobName } from './queue-names';

/** Payload of `build.run`: the build id plus its immutable inputs, cross-checked against the store. */
export const runBuildPayloadSchema = z
  .object({
    buildId: z.uuid(),
    repository: z.string().min(1).max(2048),
    commit: z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/),
    ref: z.string().min(1).max(1024).optional(),
    recipePath: z.string().min(1).max(1024),
    imageName: z.string().min(1).max(512).optional(),
  })
  .strict();

/** Data carried by a `build.run` job. */
export type RunBuildPayload = z.infer<typeof runBuildPayloadSchema>;

/** Every job on the builds queue, discriminated by name. */
export type BuildJob = { name: BuildJobName.Run; data: RunBuildPayload };

/** Raised when Redis hands a worker a job that does not match the contract; never retried. */
export class InvalidJobError extends Error {
  constructor(
    readonly jobName: string,
    detail: string,
  ) {
    super(`invalid ${jobName} job: ${detail}`);
    this.name = 'InvalidJobError';
  }
}

/** Validates a job taken from Redis (a trust boundary): unknown names and bad payloads are rejected. */
export function parseBuildJob(name: string, data: unknown): BuildJob {
  switch (name) {
    case BuildJobName.Run: {
      const parsed = runBuildPayloadSchema.safeParse(data);
      if (!parsed.success) {
        throw new InvalidJobError(
          name,
          parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
        );
      }
      return { name: BuildJobName.Run, data: parsed.data };
    }
    default:
      throw new InvalidJobError(name, 'unknown job name');
  }
}

/** Deterministic BullMQ job id for a build: re-adding the same build never duplicates it. */
export function buildJobId(buildId: string): string {
  return `build-run-${buildId}`;
}

/** Central job options: idempotent id, retries with backoff, bounded retention. */
export function runBuildJobOptions(buildId: string, attempts: number): JobsOptions {
  return {
    jobId: buildJobId(buildId),
    attempts,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}
