import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';
import type { BuilderKeyInput } from './builder.repository';

describe.each(TEST_BACKENDS)('BuilderRepository on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open();
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  const key: BuilderKeyInput = {
    keySha256: 'AB'.repeat(32),
    publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n',
    teeType: 'tdx',
    builderId: 'https://builder.test/v1',
    evidence: { quote: 'AAEC', nested: { list: [1, 'two', null], flag: true }, text: 'a "quoted" string' },
    workerId: 'worker-1',
  };

  it('inserts, then refreshes while keeping first_seen', async () => {
    const inserted = await db.store.builders.upsert(key);
    expect(inserted).toMatchObject({ ...key, keySha256: 'ab'.repeat(32) });
    expect(inserted.firstSeen).toBeInstanceOf(Date);
    await db.sql.query(`UPDATE builder_keys SET first_seen = first_seen - interval '1 day',
      last_seen = last_seen - interval '1 day'`);
    const firstSeen = (await db.store.builders.list())[0].firstSeen;

    const updated = await db.store.builders.upsert({ ...key, workerId: 'worker-2', evidence: 'just a string' });
    expect(updated.firstSeen).toEqual(firstSeen);
    expect(updated.lastSeen.getTime()).toBeGreaterThan(firstSeen.getTime());
    expect(updated).toMatchObject({ workerId: 'worker-2', evidence: 'just a string' });
    expect(await db.store.builders.list()).toEqual([updated]);
  });

  it('touches last_seen of known keys only', async () => {
    await db.store.builders.upsert({ ...key, keySha256: 'cd'.repeat(32) });
    await db.sql.query(`UPDATE builder_keys SET last_seen = last_seen - interval '1 hour' WHERE key_sha256 = $1`, [
      'cd'.repeat(32),
    ]);
    const before = (await db.store.builders.list()).find((k) => k.keySha256 === 'cd'.repeat(32))!;
    expect(await db.store.builders.touch('CD'.repeat(32))).toBe(true);
    const after = (await db.store.builders.list()).find((k) => k.keySha256 === 'cd'.repeat(32))!;
    expect(after.lastSeen.getTime()).toBeGreaterThan(before.lastSeen.getTime());
    expect(after.firstSeen).toEqual(before.firstSeen);
    expect(await db.store.builders.touch('ef'.repeat(32))).toBe(false);
    expect((await db.store.builders.list())[0].keySha256).toBe('cd'.repeat(32));
  });

  it('round-trips JSON evidence of every shape', async () => {
    for (const evidence of [null, 42, [1, 2], { a: { b: 'c' } }, '{"looks":"like json"}']) {
      const stored = await db.store.builders.upsert({ ...key, keySha256: '99'.repeat(32), evidence });
      expect(stored.evidence).toEqual(evidence);
    }
  });
  it('stores the service verdict on the evidence', async () => {
    const record = await db.store.builders.upsert({
      keySha256: 'ab'.repeat(32),
      publicKeyPem: 'pem',
      teeType: 'tdx',
      builderId: 'https://securebuild.dev/builders/tdx/v1',
      evidence: { quote: 'q' },
      workerId: 'w-assessed',
      status: 'rejected',
      assessment: { trusted: false, failed: [{ name: 'policy.tdx.mrtd', ok: false }] },
    });
    expect(record).toMatchObject({ status: 'rejected', assessment: { trusted: false } });
    const unassessed = await db.store.builders.upsert({
      ...record,
      keySha256: 'cd'.repeat(32),
      status: undefined,
      assessment: undefined,
    });
    expect(unassessed).toMatchObject({ status: 'unassessed', assessment: null });
  });
});
