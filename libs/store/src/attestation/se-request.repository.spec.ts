import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';

describe.each(TEST_BACKENDS)('SeRequestRepository on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open();
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  it('gives a request back exactly once, even to concurrent takers', async () => {
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + 60_000);
    await db.store.seRequests.put(id, 'v1.sealed', expiresAt);
    const takes = await Promise.all([db.store.seRequests.take(id), db.store.seRequests.take(id)]);
    expect(takes.filter(Boolean)).toEqual([{ secretsSealed: 'v1.sealed', expiresAt }]);
    expect(await db.store.seRequests.take('not-a-uuid')).toBeUndefined();
  });

  it('purges expired requests', async () => {
    await db.store.seRequests.put(randomUUID(), 'old', new Date(Date.now() - 1000));
    expect(await db.store.seRequests.purgeExpired(new Date())).toBeGreaterThanOrEqual(1);
  });
});
