import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { buildJobId, BuildJobName, type RunBuildPayload } from '@secure-build/queue';

import { openQueueFixture, type QueueFixture } from '../testing/service-fixture';

function payload(i: number): RunBuildPayload {
  return {
    buildId: randomUUID(),
    repository: 'https://git.example.com/org/wallet.git',
    commit: i.toString(16).padStart(40, '0'),
    ref: `refs/tags/v${i}`,
    recipePath: 'securebuild.yaml',
  };
}

describe('BullBuildQueue on the local Redis', () => {
  let fixture: QueueFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('adds concurrent enqueues as jobs with their own payload, id and retry options', async () => {
    fixture = openQueueFixture(4);
    const payloads = Array.from({ length: 60 }, (_, i) => payload(i));
    await Promise.all(payloads.map((p) => fixture?.queue.enqueue(p)));
    expect(await fixture.bullQueue.getWaitingCount()).toBe(payloads.length);
    for (const p of payloads) {
      const job = await fixture.bullQueue.getJob(buildJobId(p.buildId));
      expect(job?.name).toBe(BuildJobName.Run);
      expect(job?.data).toEqual(p);
      expect(job?.opts).toMatchObject({ attempts: 4, backoff: { type: 'exponential', delay: 5_000 } });
    }
  });

  it('never duplicates a build, whether re-enqueued later or twice in one batch', async () => {
    fixture = openQueueFixture();
    const p = payload(1);
    await Promise.all([fixture.queue.enqueue(p), fixture.queue.enqueue(p), fixture.queue.enqueue(payload(2))]);
    await fixture.queue.enqueue(p);
    expect(await fixture.bullQueue.getWaitingCount()).toBe(2);
    expect(await fixture.queue.state(p.buildId)).toEqual({ state: 'waiting' });
  });

  it('fails every caller when Redis refuses the batch and its retries', async () => {
    fixture = openQueueFixture();
    await fixture.bullQueue.close();
    const results = await Promise.allSettled([fixture.queue.enqueue(payload(1)), fixture.queue.enqueue(payload(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
