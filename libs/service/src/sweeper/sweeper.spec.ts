import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { buildJobId } from '@secure-build/queue';
import type { Store } from '@secure-build/store';

import { openQueueFixture, openTestStore, QueueFixture, TEST_REDIS } from '../testing/service-fixture';
import { Sweeper } from './sweeper';

const COMMIT = 'c'.repeat(40);

describe(Sweeper.name, () => {
  let store: Store;
  let fx: QueueFixture & { store: Store };
  let sweeper: Sweeper;
  const later = () => new Date(Date.now() + 60_000);

  const accept = async (overrides: { ref?: string } = {}) =>
    (
      await fx.store.builds.create({
        repository: 'https://git.example.com/org/wallet.git',
        commit: COMMIT,
        recipePath: 'securebuild.yaml',
        ...overrides,
      })
    ).build;

  beforeAll(async () => {
    store = await openTestStore();
  });
  afterAll(async () => store.close());
  beforeEach(() => {
    fx = { ...openQueueFixture(3), store };
    sweeper = new Sweeper(store, fx.queue, { graceMs: 10_000, maxAttempts: 3 });
  });
  afterEach(async () => {
    // Builds of one test must not leak into the next test's sweep (the store is shared).
    for (const build of await store.builds.unfinished(later(), 1000)) await store.builds.cancel(build.id);
    await fx.close();
  });

  it('re-queues an accepted build whose job Redis lost, with the stored inputs', async () => {
    const build = await accept({ ref: 'refs/heads/main' });
    expect(await sweeper.sweep(later())).toEqual({ requeued: [build.id], failed: [] });
    const job = await fx.bullQueue.getJob(buildJobId(build.id));
    expect(job?.data).toEqual({
      buildId: build.id,
      repository: build.repository,
      commit: COMMIT,
      recipePath: 'securebuild.yaml',
      ref: 'refs/heads/main',
    });
    // The job now exists: a second sweep does nothing.
    expect(await sweeper.sweep(later())).toEqual({ requeued: [], failed: [] });
  });

  it('leaves builds younger than the grace period alone (their enqueue may be in flight)', async () => {
    await accept();
    expect(await sweeper.sweep(new Date())).toEqual({ requeued: [], failed: [] });
  });

  it('fails a build whose job failed for good, with the queue reason', async () => {
    const build = await accept();
    await fx.queue.enqueue({
      buildId: build.id,
      repository: build.repository,
      commit: COMMIT,
      recipePath: 'securebuild.yaml',
    });
    const worker = new Worker(
      'builds',
      async () => {
        throw new UnrecoverableError('job stalled more than allowable limit');
      },
      { connection: TEST_REDIS, prefix: fx.prefix },
    );
    await new Promise((resolve) => worker.once('failed', resolve));
    await worker.close();
    expect(await sweeper.sweep(later())).toEqual({ requeued: [], failed: [build.id] });
    expect(await fx.store.builds.get(build.id)).toMatchObject({
      status: 'failed',
      failureCode: 'JOB_FAILED',
      failureReason: 'job stalled more than allowable limit',
    });
  });

  it('gives up on a build lost after its last attempt', async () => {
    const build = await accept();
    await fx.store.builds.start(build.id, { workerId: 'w', attempt: 3 });
    expect(await sweeper.sweep(later())).toEqual({ requeued: [], failed: [build.id] });
    expect(await fx.store.builds.get(build.id)).toMatchObject({ status: 'failed', failureCode: 'LOST' });
  });

  it('ignores finished builds', async () => {
    const build = await accept();
    await fx.store.builds.cancel(build.id);
    expect(await sweeper.sweep(later())).toEqual({ requeued: [], failed: [] });
  });
});
