import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { buildJobId } from '@secure-build/queue';

import { ServiceError } from '../service.error';
import type { Store } from '@secure-build/store';

import { openQueueFixture, openTestStore, QueueFixture } from '../testing/service-fixture';
import { BuildsService } from './builds.service';

const BODY = { repository: 'https://git.example.com/org/wallet.git', commit: 'a'.repeat(40), ref: 'refs/heads/main' };

describe(BuildsService.name, () => {
  let store: Store;
  let fx: QueueFixture & { store: Store };
  let service: BuildsService;

  beforeAll(async () => {
    store = await openTestStore();
  });
  afterAll(async () => store.close());
  beforeEach(() => {
    fx = { ...openQueueFixture(), store };
    service = new BuildsService(store, fx.queue, { publicUrl: 'https://build.example.com', allowLocalRepos: false });
  });
  afterEach(async () => fx.close());

  it('commits the build, then queues exactly one job for it', async () => {
    const { build, created } = await service.submit(BODY, {});
    expect(created).toBe(true);
    expect(build).toMatchObject({
      status: 'queued',
      repository: BODY.repository,
      ref: 'refs/heads/main',
      recipePath: 'securebuild.yaml',
    });
    expect(build.links.self).toBe(`https://build.example.com/v1/builds/${build.id}`);
    expect(await fx.bullQueue.getJob(buildJobId(build.id))).toBeDefined();
    expect(await fx.bullQueue.count()).toBe(1);
  });

  it('keeps the build when the queue is down (the sweeper queues it later)', async () => {
    const failures: string[] = [];
    const broken = new BuildsService(
      fx.store,
      {
        ...fx.queue,
        enqueue: () => Promise.reject(new Error('ECONNREFUSED')),
        state: fx.queue.state.bind(fx.queue),
        remove: fx.queue.remove.bind(fx.queue),
        counts: fx.queue.counts.bind(fx.queue),
        ping: fx.queue.ping.bind(fx.queue),
      },
      { publicUrl: 'http://x', allowLocalRepos: false, onEnqueueFailed: (id) => failures.push(id) },
    );
    const { build } = await broken.submit(BODY, {});
    expect(failures).toEqual([build.id]);
    expect((await fx.store.builds.get(build.id))?.status).toBe('queued');
  });

  it('returns the same build for a repeated Idempotency-Key and refuses it with another body', async () => {
    const first = await service.submit(BODY, {}, 'key-1');
    const again = await service.submit(BODY, {}, 'key-1');
    expect(again).toMatchObject({ created: false, build: { id: first.build.id } });
    expect(await fx.bullQueue.count()).toBe(1);
    await expect(service.submit({ ...BODY, commit: 'b'.repeat(40) }, {}, 'key-1')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
  });

  it.each([
    [{ ...BODY, commit: 'abc1234' }, 'commit'],
    [{ ...BODY, repository: 'ext::sh -c id' }, 'repository'],
    [{ ...BODY, repository: '/srv/repo' }, 'repository'],
    [{ ...BODY, ref: '--upload-pack=x' }, 'ref'],
    [{ ...BODY, recipePath: '../x.yaml' }, 'recipePath'],
    [{ ...BODY, imageName: 'Registry/App' }, 'imageName'],
    [{ ...BODY, extra: 1 }, 'extra'],
    [{ commit: BODY.commit }, 'repository'],
  ])('refuses %j naming the field, queueing nothing', async (body, field) => {
    await expect(service.submit(body, {})).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
    expect(await fx.bullQueue.count()).toBe(0);
  });

  it('validates list parameters', async () => {
    await expect(service.list({ status: 'done' })).rejects.toThrow(/status: must be one of/);
    await expect(service.list({ limit: '0' })).rejects.toThrow(/limit/);
    await expect(service.list({ commit: 'abc' })).rejects.toThrow(/commit/);
  });

  it('cancels a queued build and removes its job; a second cancel conflicts', async () => {
    const { build } = await service.submit(BODY, {});
    expect((await service.cancel(build.id)).status).toBe('cancelled');
    expect(await fx.bullQueue.getJob(buildJobId(build.id))).toBeUndefined();
    await expect(service.cancel(build.id)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('reports unknown builds as NOT_FOUND', async () => {
    await expect(service.get('0b6f5e2c-3f1a-4c1e-9a57-8f3b2c1d0e9f')).rejects.toBeInstanceOf(ServiceError);
    await expect(service.get('not-a-uuid')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
