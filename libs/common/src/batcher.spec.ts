import { describe, expect, it } from 'vitest';

import { Batcher } from './batcher';

/** A deferred promise, to hold a batch in flight while more calls arrive. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A batcher doubling numbers that records the batches it ran. */
function recordingBatcher(options: ConstructorParameters<typeof Batcher>[1] = {}, hold?: Promise<void>) {
  const batches: number[][] = [];
  const batcher = new Batcher<number, number>(async (items) => {
    batches.push([...items]);
    if (hold) await hold;
    return items.map((n) => n * 2);
  }, options);
  return { batcher, batches };
}

describe('Batcher', () => {
  it('runs a lone call as a batch of one', async () => {
    const { batcher, batches } = recordingBatcher();
    await expect(batcher.submit(21)).resolves.toBe(42);
    expect(batches).toEqual([[21]]);
  });

  it('groups the calls that arrive while a batch is in flight, answering each in order', async () => {
    const held = gate();
    const { batcher, batches } = recordingBatcher({}, held.opened);
    const first = batcher.submit(0);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [1, 2, 3, 4].map((n) => batcher.submit(n));
    held.open();
    await expect(Promise.all([first, ...rest])).resolves.toEqual([0, 2, 4, 6, 8]);
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
  });

  it('groups calls made in the same I/O round without waiting for a timer', async () => {
    const { batcher, batches } = recordingBatcher();
    await expect(Promise.all([1, 2, 3].map((n) => batcher.submit(n)))).resolves.toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('splits at maxBatch', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 4 });
    const all = Array.from({ length: 10 }, (_, n) => batcher.submit(n));
    await expect(Promise.all(all)).resolves.toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('runs up to maxInFlight batches at once', async () => {
    const held = gate();
    let running = 0;
    let most = 0;
    const batcher = new Batcher<number, number>(
      async (items) => {
        running++;
        most = Math.max(most, running);
        await held.opened;
        running--;
        return [...items];
      },
      { maxBatch: 2, maxInFlight: 3 },
    );
    const all = Array.from({ length: 12 }, (_, n) => batcher.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(3);
    held.open();
    await expect(Promise.all(all)).resolves.toEqual(Array.from({ length: 12 }, (_, n) => n));
    expect(most).toBe(3);
  });

  it('retries each item alone when a batch fails, so only the bad item fails its caller', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(async (items) => {
      batches.push([...items]);
      if (items.includes(13)) throw new Error('13 is refused');
      return [...items];
    });
    const results = await Promise.allSettled([11, 12, 13, 14].map((n) => batcher.submit(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      11,
      12,
      '13 is refused',
      14,
    ]);
    expect(batches).toEqual([[11, 12, 13, 14], [11], [12], [13], [14]]);
  });

  it('retries each item alone when a batch answers with the wrong number of results', async () => {
    const batcher = new Batcher<number, number>(async (items) => (items.length > 1 ? items.slice(1) : [items[0] * 10]));
    await expect(Promise.all([1, 2].map((n) => batcher.submit(n)))).resolves.toEqual([10, 20]);
  });

  it('fails the caller when a batch of one answers with the wrong number of results', async () => {
    const batcher = new Batcher<number, number>(async () => []);
    await expect(batcher.submit(1)).rejects.toThrow('batch of one answered 0 results');
  });

  it('keeps working after failures', async () => {
    let fail = true;
    const batcher = new Batcher<number, number>(async (items) => {
      if (fail) throw new Error('down');
      return [...items];
    });
    await expect(batcher.submit(1)).rejects.toThrow('down');
    fail = false;
    await expect(batcher.submit(2)).resolves.toBe(2);
  });

  it('refuses limits that are not positive integers', () => {
    const run = async (items: readonly number[]) => [...items];
    expect(() => new Batcher(run, { maxBatch: 0 })).toThrow(/maxBatch must be a positive integer/);
    expect(() => new Batcher(run, { maxInFlight: 1.5 })).toThrow(/maxInFlight must be a positive integer/);
  });
});
