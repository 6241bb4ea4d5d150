/** Limits of a {@link Batcher}. */
export interface BatcherOptions {
  /** Items per batch at most (default 256). */
  maxBatch?: number;
  /** Batches running at once; calls made while all are busy wait and join the next batch (default 1). */
  maxInFlight?: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: concurrent calls are carried out as batches (one statement, one pipeline) instead of
 * one round trip each. No call waits for a timer: a batch starts as soon as a slot is free, after the
 * current round of I/O callbacks, so under light load every batch holds a single item and only calls
 * that arrive while the slots are busy are grouped.
 *
 * `runBatch` answers item for item, in order. When a batch of several throws, each of its items is
 * retried alone, so one bad item fails only its own caller; `runBatch` must therefore be safe to repeat
 * for an item (idempotent writes).
 */
export class Batcher<I, O> {
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private waiting: Waiting<I, O>[] = [];
  private inFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly runBatch: (items: readonly I[]) => Promise<readonly O[]>,
    options: BatcherOptions = {},
  ) {
    this.maxBatch = positiveInteger(options.maxBatch ?? 256, 'maxBatch');
    this.maxInFlight = positiveInteger(options.maxInFlight ?? 1, 'maxInFlight');
  }

  /** Resolves with this item's result once the batch it joined has run. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.length <= this.maxBatch ? this.waiting : this.waiting.slice(0, this.maxBatch);
      this.waiting = batch === this.waiting ? [] : this.waiting.slice(this.maxBatch);
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.scheduleFlush();
      });
    }
  }

  private async execute(batch: Waiting<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      let results: readonly O[] | undefined;
      try {
        results = await this.runBatch(batch.map((w) => w.item));
      } catch {
        results = undefined; // isolate the bad item: each one alone below
      }
      if (results !== undefined && results.length === batch.length) {
        batch.forEach((w, i) => w.resolve(results[i]));
        return;
      }
    }
    await Promise.all(batch.map((w) => this.runAlone(w.item).then(w.resolve, w.reject)));
  }

  private async runAlone(item: I): Promise<O> {
    const results = await this.runBatch([item]);
    if (results.length !== 1) throw new Error(`batch of one answered ${results.length} results`);
    return results[0];
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}
