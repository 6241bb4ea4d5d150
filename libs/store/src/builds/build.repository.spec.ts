import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SqlClient } from '../sql/sql-client';
import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';
import { SqlBuildRepository, type BuildRepository } from './build.repository';
import type { CompleteBuildInput, CreateBuildInput } from './build.type';

const COMMIT = 'a'.repeat(40);

function buildInput(overrides: Partial<CreateBuildInput> = {}): CreateBuildInput {
  return {
    repository: `https://example.test/${randomUUID()}.git`,
    commit: COMMIT,
    recipePath: 'build.yaml',
    ...overrides,
  };
}

function completion(digest = 'b'.repeat(64)): CompleteBuildInput {
  return {
    manifestDigest: `sha256:${digest}`,
    bundleJson: '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json", "x": 1}',
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    signingKeySha256: 'c'.repeat(64),
    subjects: [{ algorithm: 'sha256', digest, name: 'image' }],
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'StoreError', code });
}

describe.each(TEST_BACKENDS)('BuildRepository on $kind', (backend) => {
  let db: TestStore;
  let builds: BuildRepository;
  beforeAll(async () => {
    db = await backend.open();
    builds = db.store.builds;
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  async function runningBuild(overrides: Partial<CreateBuildInput> = {}) {
    const { build } = await builds.create(buildInput(overrides));
    await builds.start(build.id, { workerId: 'w1', attempt: 1 });
    return build.id;
  }

  describe('create and get', () => {
    it('creates a queued build with every field', async () => {
      const createdBy = randomUUID();
      const input = buildInput({ ref: 'refs/heads/main', imageName: 'registry.test/app', createdBy, requestHash: 'h' });
      const { build, created } = await builds.create(input);
      expect(created).toBe(true);
      expect(build).toMatchObject({
        status: 'queued',
        repository: input.repository,
        commit: COMMIT,
        ref: 'refs/heads/main',
        recipePath: 'build.yaml',
        imageName: 'registry.test/app',
        createdBy,
        idempotencyKey: null,
        requestHash: 'h',
        attempts: 0,
        workerId: null,
        manifestDigest: null,
        failureCode: null,
        startedAt: null,
        finishedAt: null,
      });
      expect(build.createdAt).toBeInstanceOf(Date);
      expect(build.updatedAt).toBeInstanceOf(Date);
      expect(await builds.get(build.id)).toEqual(build);
    });

    it('returns undefined for unknown ids and non-uuid text', async () => {
      expect(await builds.get(randomUUID())).toBeUndefined();
      expect(await builds.get('not-a-uuid')).toBeUndefined();
      expect(await builds.get("'; DROP TABLE builds; --")).toBeUndefined();
      expect(await builds.get('')).toBeUndefined();
    });
  });

  describe('idempotency', () => {
    it('returns the existing build for a replayed key of the same caller', async () => {
      const createdBy = randomUUID();
      const input = buildInput({ createdBy, idempotencyKey: 'key-1', requestHash: 'h1' });
      const first = await builds.create(input);
      const second = await builds.create(input);
      expect(first.created).toBe(true);
      expect(second).toEqual({ build: first.build, created: false });
    });

    it('rejects a replayed key with a different request body', async () => {
      const createdBy = randomUUID();
      const first = await builds.create(buildInput({ createdBy, idempotencyKey: 'key-2', requestHash: 'h1' }));
      await expectCode(
        builds.create(buildInput({ createdBy, idempotencyKey: 'key-2', requestHash: 'h2' })),
        'IDEMPOTENCY_CONFLICT',
      );
      await expectCode(builds.create(buildInput({ createdBy, idempotencyKey: 'key-2' })), 'IDEMPOTENCY_CONFLICT');
      expect((await builds.get(first.build.id))?.requestHash).toBe('h1');
    });

    it('scopes keys per caller, including anonymous callers', async () => {
      const a = await builds.create(
        buildInput({ createdBy: randomUUID(), idempotencyKey: 'shared', requestHash: 'h' }),
      );
      const b = await builds.create(
        buildInput({ createdBy: randomUUID(), idempotencyKey: 'shared', requestHash: 'h' }),
      );
      expect(b.created).toBe(true);
      expect(b.build.id).not.toBe(a.build.id);
      const anonymous = buildInput({ idempotencyKey: `anon-${randomUUID()}`, requestHash: 'h' });
      const c = await builds.create(anonymous);
      const d = await builds.create(anonymous);
      expect([c.created, d.created]).toEqual([true, false]);
      expect(d.build.id).toBe(c.build.id);
    });

    it('creates exactly one row for concurrent creates with one key', async () => {
      const input = buildInput({ createdBy: randomUUID(), idempotencyKey: 'race', requestHash: 'h' });
      const results = await Promise.all(Array.from({ length: 8 }, () => builds.create(input)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.build.id)).size).toBe(1);
      const rows = await db.sql.query('SELECT id FROM builds WHERE repository = $1', [input.repository]);
      expect(rows.rows).toHaveLength(1);
    });

    it('creates separate builds without a key', async () => {
      const input = buildInput();
      const [a, b] = await Promise.all([builds.create(input), builds.create(input)]);
      expect(a.build.id).not.toBe(b.build.id);
    });
  });

  describe('group commit', () => {
    /** A repository on a client that counts the INSERT statements it is sent. */
    function countingRepository(): { repository: SqlBuildRepository; inserts: () => number } {
      let inserts = 0;
      const counting: SqlClient = {
        ...db.sql,
        query: (sql, params) => {
          if (/^\s*INSERT INTO builds/.test(sql)) inserts++;
          return db.sql.query(sql, params);
        },
      };
      return { repository: new SqlBuildRepository(counting), inserts: () => inserts };
    }

    it('inserts concurrent creates in shared statements, answering each caller with its own row', async () => {
      const { repository, inserts } = countingRepository();
      const inputs = Array.from({ length: 50 }, (_, i) =>
        buildInput({ commit: i.toString(16).padStart(40, '0'), ref: `refs/tags/v${i}`, imageName: `img:${i}` }),
      );
      const results = await Promise.all(inputs.map((input) => repository.create(input)));
      expect(inserts()).toBeLessThan(inputs.length / 2);
      results.forEach(({ build, created }, i) => {
        expect(created).toBe(true);
        expect(build).toMatchObject({
          status: 'queued',
          repository: inputs[i].repository,
          commit: inputs[i].commit,
          ref: `refs/tags/v${i}`,
          imageName: `img:${i}`,
        });
      });
      const stored = await Promise.all(results.map(({ build }) => builds.get(build.id)));
      expect(stored.map((b) => b?.commit)).toEqual(inputs.map((input) => input.commit));
    });

    it('keeps idempotency within one batch: one row per key, a different body conflicts', async () => {
      const createdBy = randomUUID();
      const same = buildInput({ createdBy, idempotencyKey: 'batch-key', requestHash: 'h' });
      const results = await Promise.allSettled([
        builds.create(same),
        builds.create(same),
        builds.create({ ...same, requestHash: 'other' }),
        builds.create(buildInput()),
      ]);
      const values = results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason));
      const sameKey = values.slice(0, 3);
      const winner = sameKey.find((v) => v.created === true);
      expect(winner).toBeDefined();
      for (const v of sameKey) {
        if (v === winner) continue;
        if (v.created === false) expect(v.build.id).toBe(winner.build.id);
        else expect(v).toMatchObject({ name: 'StoreError', code: 'IDEMPOTENCY_CONFLICT' });
      }
      expect(values[3].created).toBe(true);
      const rows = await db.sql.query('SELECT id FROM builds WHERE idempotency_key = $1 AND created_by = $2', [
        'batch-key',
        createdBy,
      ]);
      expect(rows.rows).toHaveLength(1);
    });

    it('fails only the caller whose row the database refuses; the rest of its batch is stored', async () => {
      const good = [buildInput(), buildInput(), buildInput()];
      // PostgreSQL text cannot hold NUL: this row makes the whole batch statement fail.
      const bad = buildInput({ repository: 'https://example.test/nul\u0000.git' });
      const results = await Promise.allSettled([
        builds.create(good[0]),
        builds.create(bad),
        builds.create(good[1]),
        builds.create(good[2]),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      for (const input of good) {
        const rows = await db.sql.query('SELECT id FROM builds WHERE repository = $1', [input.repository]);
        expect(rows.rows).toHaveLength(1);
      }
    });
  });

  describe('list', () => {
    const repository = `https://example.test/listing-${randomUUID()}.git`;
    const other = `https://example.test/other-${randomUUID()}.git`;
    const ids: string[] = [];

    beforeAll(async () => {
      // 7 builds on `repository` (3 with another commit), 2 on `other`; some share a created_at.
      for (let i = 0; i < 7; i++) {
        const { build } = await builds.create(buildInput({ repository, commit: i < 3 ? 'f'.repeat(40) : COMMIT }));
        ids.push(build.id);
      }
      await db.sql.query(`UPDATE builds SET created_at = '2024-01-01T00:00:00.000Z' WHERE id = ANY($1::uuid[])`, [
        ids.slice(2, 5),
      ]);
      await builds.create(buildInput({ repository: other }));
      await builds.create(buildInput({ repository: other }));
      await builds.cancel(ids[6]);
    });

    it('pages across three pages in a stable order without duplicates or gaps', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await builds.list({ repository, limit: 3, cursor });
        seen.push(...page.items.map((b) => b.id));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect(new Set(seen)).toEqual(new Set(ids));

      const all = await builds.list({ repository, limit: 200 });
      expect(all.items.map((b) => b.id)).toEqual(seen);
      expect(all.nextCursor).toBeNull();
      for (let i = 1; i < all.items.length; i++) {
        const [prev, cur] = [all.items[i - 1], all.items[i]];
        const ordered =
          prev.createdAt.getTime() > cur.createdAt.getTime() ||
          (prev.createdAt.getTime() === cur.createdAt.getTime() && prev.id > cur.id);
        expect(ordered).toBe(true);
      }
    });

    it('filters by repository, status and commit', async () => {
      expect((await builds.list({ repository: other, limit: 10 })).items).toHaveLength(2);
      const cancelled = await builds.list({ repository, status: 'cancelled', limit: 10 });
      expect(cancelled.items.map((b) => b.id)).toEqual([ids[6]]);
      const byCommit = await builds.list({ repository, commit: 'f'.repeat(40), limit: 10 });
      expect(new Set(byCommit.items.map((b) => b.id))).toEqual(new Set(ids.slice(0, 3)));
      const allByCommit = await builds.list({ commit: 'f'.repeat(40), limit: 200 });
      expect(allByCommit.items.every((b) => b.commit === 'f'.repeat(40))).toBe(true);
      const queued = await builds.list({ status: 'queued', limit: 200 });
      expect(queued.items.every((b) => b.status === 'queued')).toBe(true);
    });

    it('returns exactly one page when the rows fit', async () => {
      const page = await builds.list({ repository: other, limit: 2 });
      expect(page.items).toHaveLength(2);
      expect(page.nextCursor).toBeNull();
    });

    it('rejects malformed cursors and limits', async () => {
      await expectCode(builds.list({ limit: 5, cursor: 'garbage!' }), 'INVALID_CURSOR');
      await expectCode(builds.list({ limit: 5, cursor: Buffer.from('{}').toString('base64url') }), 'INVALID_CURSOR');
      await expectCode(builds.list({ limit: 0 }), 'INVALID_LIMIT');
      await expectCode(builds.list({ limit: 201 }), 'INVALID_LIMIT');
      await expectCode(builds.list({ limit: 1.5 }), 'INVALID_LIMIT');
    });
  });

  describe('transitions', () => {
    it('starts queued and running builds and records the attempt', async () => {
      const { build } = await builds.create(buildInput());
      const started = await builds.start(build.id, { workerId: 'w1', attempt: 1 });
      expect(started).toMatchObject({ status: 'running', workerId: 'w1', attempts: 1 });
      expect(started?.startedAt).toBeInstanceOf(Date);
      const restarted = await builds.start(build.id, { workerId: 'w2', attempt: 2 });
      expect(restarted).toMatchObject({ status: 'running', workerId: 'w2', attempts: 2 });
      expect(restarted?.startedAt).toEqual(started?.startedAt);
    });

    it('does not start terminal or unknown builds', async () => {
      const { build } = await builds.create(buildInput());
      expect(await builds.cancel(build.id)).toBe('cancelled');
      expect(await builds.start(build.id, { workerId: 'w1', attempt: 1 })).toBeUndefined();
      expect(await builds.start(randomUUID(), { workerId: 'w1', attempt: 1 })).toBeUndefined();
      expect(await builds.start('nope', { workerId: 'w1', attempt: 1 })).toBeUndefined();
      expect((await builds.get(build.id))?.status).toBe('cancelled');
    });

    it('fails only queued or running builds', async () => {
      const queued = (await builds.create(buildInput())).build.id;
      expect(await builds.fail(queued, { code: 'SOURCE', reason: 'fetch failed' })).toBe(true);
      const failed = await builds.get(queued);
      expect(failed).toMatchObject({ status: 'failed', failureCode: 'SOURCE', failureReason: 'fetch failed' });
      expect(failed?.finishedAt).toBeInstanceOf(Date);
      expect(await builds.fail(queued, { code: 'OTHER', reason: 'again' })).toBe(false);
      expect((await builds.get(queued))?.failureCode).toBe('SOURCE');

      const running = await runningBuild();
      expect(await builds.fail(running, { code: 'BUILD', reason: 'exit 1' })).toBe(true);
      expect(await builds.fail(randomUUID(), { code: 'X', reason: 'x' })).toBe(false);
    });

    it('requeues only running builds', async () => {
      const running = await runningBuild();
      expect(await builds.requeue(running)).toBe(true);
      expect(await builds.get(running)).toMatchObject({ status: 'queued', workerId: null });
      expect(await builds.requeue(running)).toBe(false);
      await builds.cancel(running);
      expect(await builds.requeue(running)).toBe(false);
      expect(await builds.requeue('nope')).toBe(false);
    });

    it('cancels queued and running builds and refuses terminal ones', async () => {
      const queued = (await builds.create(buildInput())).build.id;
      expect(await builds.cancel(queued)).toBe('cancelled');
      expect((await builds.get(queued))?.finishedAt).toBeInstanceOf(Date);
      expect(await builds.cancel(queued)).toBe('already-terminal');
      const running = await runningBuild();
      expect(await builds.cancel(running)).toBe('cancelled');
      const succeeded = await runningBuild();
      expect(await builds.complete(succeeded, completion())).toBe('completed');
      expect(await builds.cancel(succeeded)).toBe('already-terminal');
      expect(await builds.cancel(randomUUID())).toBe('not-found');
      expect(await builds.cancel('nope')).toBe('not-found');
    });
  });

  describe('stages', () => {
    it('records stage events in order and bumps updated_at', async () => {
      const id = await runningBuild();
      await db.sql.query(`UPDATE builds SET updated_at = now() - interval '1 hour' WHERE id = $1`, [id]);
      const before = (await builds.get(id))!.updatedAt;
      await builds.recordStage(id, { attempt: 1, stage: 'fetch', event: 'start' });
      await builds.recordStage(id, { attempt: 1, stage: 'fetch', event: 'end', durationMs: 1234, detail: 'ok' });
      await builds.recordStage(id, { attempt: 1, stage: 'build', event: 'start' });
      const events = await builds.stages(id);
      expect(events.map((e) => [e.stage, e.event, e.durationMs, e.detail])).toEqual([
        ['fetch', 'start', null, null],
        ['fetch', 'end', 1234, 'ok'],
        ['build', 'start', null, null],
      ]);
      expect(events[0]).toMatchObject({ buildId: id, attempt: 1 });
      expect(events[0].at).toBeInstanceOf(Date);
      expect(events[1].id).toBeGreaterThan(events[0].id);
      expect((await builds.get(id))!.updatedAt.getTime()).toBeGreaterThan(before.getTime());
    });

    it('rejects stage events of unknown builds', async () => {
      await expectCode(builds.recordStage(randomUUID(), { attempt: 1, stage: 's', event: 'start' }), 'NOT_FOUND');
      await expectCode(builds.recordStage('nope', { attempt: 1, stage: 's', event: 'start' }), 'NOT_FOUND');
      expect(await builds.stages('nope')).toEqual([]);
    });
  });

  describe('complete', () => {
    it('completes a running build once and stores the bundle byte-for-byte', async () => {
      const id = await runningBuild();
      const input = completion('d'.repeat(64));
      expect(await builds.complete(id, input)).toBe('completed');
      const build = await builds.get(id);
      expect(build).toMatchObject({ status: 'succeeded', manifestDigest: input.manifestDigest });
      expect(build?.finishedAt).toBeInstanceOf(Date);
      expect(await db.store.bundles.get(id)).toEqual({ bundleJson: input.bundleJson, mediaType: input.mediaType });

      const second = { ...completion('e'.repeat(64)), bundleJson: '{"other":true}' };
      expect(await builds.complete(id, second)).toBe('already-completed');
      expect((await db.store.bundles.get(id))?.bundleJson).toBe(input.bundleJson);
      expect((await builds.get(id))?.manifestDigest).toBe(input.manifestDigest);
    });

    it('refuses builds that are not running', async () => {
      const queued = (await builds.create(buildInput())).build.id;
      expect(await builds.complete(queued, completion())).toBe('not-running');
      const cancelled = await runningBuild();
      await builds.cancel(cancelled);
      expect(await builds.complete(cancelled, completion())).toBe('not-running');
      const failed = await runningBuild();
      await builds.fail(failed, { code: 'X', reason: 'x' });
      expect(await builds.complete(failed, completion())).toBe('not-running');
      expect(await builds.complete(randomUUID(), completion())).toBe('not-running');
      expect(await builds.complete('nope', completion())).toBe('not-running');
      for (const id of [queued, cancelled, failed]) expect(await db.store.bundles.get(id)).toBeUndefined();
    });

    it('completes exactly once under concurrency', async () => {
      const id = await runningBuild();
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => builds.complete(id, { ...completion(), bundleJson: `{"n":${i}}` })),
      );
      expect(results.filter((r) => r === 'completed')).toHaveLength(1);
      expect(results.filter((r) => r === 'already-completed')).toHaveLength(5);
      const bundles = await db.sql.query('SELECT bundle_json FROM bundles WHERE build_id = $1', [id]);
      expect(bundles.rows).toHaveLength(1);
    });

    it('lets a cancel racing a complete win or lose cleanly', async () => {
      const id = await runningBuild();
      const [completed, cancelled] = await Promise.all([builds.complete(id, completion()), builds.cancel(id)]);
      const build = await builds.get(id);
      if (completed === 'completed') {
        expect(cancelled).toBe('already-terminal');
        expect(build?.status).toBe('succeeded');
      } else {
        expect([completed, cancelled]).toEqual(['not-running', 'cancelled']);
        expect(build?.status).toBe('cancelled');
        expect(await db.store.bundles.get(id)).toBeUndefined();
      }
    });
  });

  describe('sweeper queries', () => {
    it('lists stale queued and running builds only', async () => {
      const stale = (await builds.create(buildInput())).build.id;
      const staleRunning = await runningBuild();
      const staleDone = await runningBuild();
      await builds.fail(staleDone, { code: 'X', reason: 'x' });
      const fresh = (await builds.create(buildInput())).build.id;
      await db.sql.query(`UPDATE builds SET updated_at = '2000-01-01T00:00:00Z' WHERE id = ANY($1::uuid[])`, [
        [stale, staleRunning, staleDone],
      ]);
      await db.sql.query(`UPDATE builds SET updated_at = '2000-01-01T00:00:01Z' WHERE id = $1`, [staleRunning]);
      const found = await builds.unfinished(new Date('2001-01-01T00:00:00Z'), 100);
      expect(found.map((b) => b.id)).toEqual([stale, staleRunning]);
      expect(found.map((b) => b.id)).not.toContain(fresh);
      expect(await builds.unfinished(new Date('2001-01-01T00:00:00Z'), 1)).toHaveLength(1);
    });

    it('counts builds per status', async () => {
      const before = await builds.countByStatus();
      expect(Object.keys(before).sort()).toEqual(['cancelled', 'failed', 'queued', 'running', 'succeeded']);
      await builds.create(buildInput());
      await runningBuild();
      const after = await builds.countByStatus();
      expect(after.queued).toBe(before.queued + 1);
      expect(after.running).toBe(before.running + 1);
      expect(after.succeeded).toBe(before.succeeded);
      const total = await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM builds');
      expect(Object.values(after).reduce((a, b) => a + b, 0)).toBe(total.rows[0].n);
    });
  });
});
