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

  it('records concurrent distinct deliveries in shared statements, each with its own build', async () => {
    const inputs = Array.from({ length: 40 }, (_, i) => ({
      provider: 'github',
      deliveryId: `d-batch-${i}`,
      projectId,
      decision: {
        outcome: 'build' as const,
        build: { ...build, commit: i.toString(16).padStart(40, '0'), ref: `refs/tags/v${i}`, projectId },
      },
    }));
    // Every delivery twice, at once: the twins may land in the same batch statement.
    const results = await Promise.all([...inputs, ...inputs].map((input) => db.store.deliveries.record(input)));
    const first = results.slice(0, inputs.length);
    const twins = results.slice(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const pair = [first[i], twins[i]];
      expect(pair.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(pair[0].buildId).toBe(pair[1].buildId);
      const stored = await db.store.builds.get(pair[0].buildId ?? '');
      expect(stored).toMatchObject({ commit: inputs[i].decision.build.commit, ref: `refs/tags/v${i}`, projectId });
    }
    const rows = await db.sql.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE delivery_id LIKE 'd-batch-%'`,
    );
    expect(rows.rows[0].n).toBe(inputs.length);
    const linked = await db.sql.query(
      `SELECT count(*)::int AS n FROM builds b JOIN webhook_deliveries d ON d.build_id = b.id
       WHERE d.delivery_id LIKE 'd-batch-%'`,
    );
    expect(linked.rows[0].n).toBe(inputs.length);
  });

  it('fails only the delivery whose build the database refuses', async () => {
    const input = (deliveryId: string, repository = build.repository) => ({
      provider: 'github',
      deliveryId,
      projectId,
      decision: { outcome: 'build' as const, build: { ...build, repository, projectId } },
    });
    const results = await Promise.allSettled([
      db.store.deliveries.record(input('d-ok-1')),
      db.store.deliveries.record(input('d-bad', 'https://example.test/nul\u0000.git')),
      db.store.deliveries.record(input('d-ok-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = await db.sql.query(
      `SELECT delivery_id FROM webhook_deliveries WHERE delivery_id IN ('d-ok-1', 'd-bad', 'd-ok-2') ORDER BY 1`,
    );
    expect(rows.rows.map((r) => r.delivery_id)).toEqual(['d-ok-1', 'd-ok-2']);
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
