import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';

describe.each(TEST_BACKENDS)('DeliveryRepository on $kind', (backend) => {
  let db: TestStore;
  let projectId: string;
  const build = {
    repository: 'https://git.example.com/org/wallet.git',
    commit: 'a'.repeat(40),
    ref: 'refs/heads/main',
    recipePath: 'securebuild.yaml',
    signaturePolicy: { mode: 'none' },
  };

  beforeAll(async () => {
    db = await backend.open();
    projectId = (
      await db.store.projects.create({
        name: 'wallet',
        repository: build.repository,
        allowedRefs: ['refs/heads/main'],
        recipePath: 'securebuild.yaml',
        imageName: null,
        webhookProvider: 'github',
        webhookSecretSealed: 'sealed',
        signaturePolicy: { mode: 'none' },
      })
    ).id;
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  it('creates one build per delivery id; a redelivery returns it and creates nothing', async () => {
    const input = {
      provider: 'github',
      deliveryId: 'd-1',
      projectId,
      decision: { outcome: 'build' as const, build: { ...build, projectId } },
    };
    const first = await db.store.deliveries.record(input);
    expect(first).toMatchObject({ duplicate: false, outcome: 'build', buildId: expect.any(String) });
    const stored = await db.store.builds.get(first.buildId ?? '');
    expect(stored).toMatchObject({
      status: 'queued',
      projectId,
      ref: 'refs/heads/main',
      signaturePolicy: { mode: 'none' },
    });
    const again = await db.store.deliveries.record(input);
    expect(again).toMatchObject({ duplicate: true, outcome: 'build', buildId: first.buildId });
    const builds = await db.store.builds.list({ limit: 200 });
    expect(builds.items.filter((b) => b.projectId === projectId)).toHaveLength(1);
  });

  it('is race-free: concurrent deliveries with one id create one build', async () => {
    const input = {
      provider: 'gitea',
      deliveryId: 'd-race',
      projectId,
      decision: { outcome: 'build' as const, build: { ...build, projectId } },
    };
    const results = await Promise.all([
      db.store.deliveries.record(input),
      db.store.deliveries.record(input),
      db.store.deliveries.record(input),
    ]);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.buildId)).size).toBe(1);
  });

  it('remembers ignored deliveries with their reason, per provider', async () => {
    const ignored = {
      provider: 'github',
      deliveryId: 'd-2',
      projectId,
      decision: { outcome: 'ignored' as const, reason: 'branch deletion' },
    };
    expect(await db.store.deliveries.record(ignored)).toEqual({ duplicate: false, outcome: 'ignored', buildId: null });
    expect(await db.store.deliveries.record(ignored)).toMatchObject({
      duplicate: true,
      outcome: 'ignored',
      buildId: null,
    });
    // The same id from another provider, or for another project, is another delivery.
    expect(await db.store.deliveries.record({ ...ignored, provider: 'gitlab' })).toMatchObject({ duplicate: false });
    const other = await db.store.projects.create({
      name: 'other',
      repository: build.repository,
      allowedRefs: ['refs/heads/main'],
      recipePath: 'securebuild.yaml',
      imageName: null,
      webhookProvider: 'github',
      webhookSecretSealed: 'sealed',
      signaturePolicy: { mode: 'none' },
    });
    expect(await db.store.deliveries.record({ ...ignored, projectId: other.id })).toMatchObject({ duplicate: false });
  });
});
