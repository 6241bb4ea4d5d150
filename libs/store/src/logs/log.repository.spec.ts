import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';

describe.each(TEST_BACKENDS)('LogRepository on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open();
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  const newBuild = async () =>
    (
      await db.store.builds.create({
        repository: 'https://example.test/r.git',
        commit: 'a'.repeat(40),
        recipePath: 'b',
      })
    ).build.id;

  it('appends chunks with increasing ids and reads them in order after an id', async () => {
    const buildId = await newBuild();
    const other = await newBuild();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await db.store.logs.append(buildId, 1, `line ${i}\n`));
      await db.store.logs.append(other, 1, `other ${i}\n`);
    }
    ids.push(await db.store.logs.append(buildId, 2, 'retry\n'));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const all = await db.store.logs.read(buildId, 0, 100);
    expect(all.map((c) => c.chunk)).toEqual(['line 0\n', 'line 1\n', 'line 2\n', 'line 3\n', 'line 4\n', 'retry\n']);
    expect(all.map((c) => c.id)).toEqual(ids);
    expect(all.map((c) => c.attempt)).toEqual([1, 1, 1, 1, 1, 2]);

    // Polling: resume after the last seen id, in pages.
    const first = await db.store.logs.read(buildId, 0, 2);
    const second = await db.store.logs.read(buildId, first[1].id, 2);
    expect([...first, ...second].map((c) => c.chunk)).toEqual(all.slice(0, 4).map((c) => c.chunk));
    expect(await db.store.logs.read(buildId, ids[ids.length - 1], 10)).toEqual([]);
  });

  it('keeps chunks exactly, replacing only NUL characters', async () => {
    const buildId = await newBuild();
    const chunk = 'ünïcødé \u001b[31mred\u001b[0m\r\n\ttab 🚀';
    await db.store.logs.append(buildId, 1, chunk);
    await db.store.logs.append(buildId, 1, 'a\u0000b');
    expect((await db.store.logs.read(buildId, 0, 10)).map((c) => c.chunk)).toEqual([chunk, 'a\uFFFDb']);
  });

  it('rejects appends to unknown builds and reads nothing for them', async () => {
    await expect(db.store.logs.append(randomUUID(), 1, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(db.store.logs.append('nope', 1, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await db.store.logs.read(randomUUID(), 0, 10)).toEqual([]);
    expect(await db.store.logs.read('nope', 0, 10)).toEqual([]);
  });
});
