import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';

describe.each(TEST_BACKENDS)('SqlClient on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open();
    await db.sql.query('CREATE TABLE t (id integer PRIMARY KEY, at timestamptz(3) NOT NULL DEFAULT now())');
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  it('returns rows, rowCount and timestamps as Date', async () => {
    const inserted = await db.sql.query('INSERT INTO t (id) VALUES ($1), ($2)', [1, 2]);
    expect(inserted.rowCount).toBe(2);
    const { rows } = await db.sql.query<{ id: number; at: Date }>('SELECT id, at FROM t ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    expect(rows[0].at).toBeInstanceOf(Date);
    expect(Math.abs(rows[0].at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('rolls a transaction back when its function throws', async () => {
    await expect(
      db.sql.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (10)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await db.sql.query('SELECT 1 FROM t WHERE id = 10')).rows).toHaveLength(0);
  });

  it('keeps concurrent transactions from interleaving on one row', async () => {
    await db.sql.query('CREATE TABLE counter (n integer NOT NULL)');
    await db.sql.query('INSERT INTO counter VALUES (0)');
    await Promise.all(
      Array.from({ length: 10 }, () =>
        db.sql.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter FOR UPDATE');
          await new Promise((resolve) => setTimeout(resolve, 2));
          await tx.query('UPDATE counter SET n = $1', [rows[0].n + 1]);
        }),
      ),
    );
    expect((await db.sql.query<{ n: number }>('SELECT n FROM counter')).rows[0].n).toBe(10);
  });

  it('refuses nested transactions', async () => {
    await expect(db.sql.transaction((tx) => tx.transaction(async () => 1))).rejects.toThrow(/nested/);
  });
});
