import type { Store } from '@secure-build/store';

const FLUSH_INTERVAL_MS = 250;
const MAX_BUFFER = 64 * 1024;

/** Batches build output into the store so live log readers see it within a fraction of a second. */
export class LogSink {
  private buffer = '';
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly buildId: string,
    private readonly attempt: number,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  write(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length >= MAX_BUFFER) void this.flush();
  }

  /** Writes what is buffered; writes are serialized so chunks stay in order. */
  flush(): Promise<void> {
    if (this.buffer === '') return this.writing;
    const chunk = this.buffer;
    this.buffer = '';
    this.writing = this.writing
      .then(async () => {
        await this.store.logs.append(this.buildId, this.attempt, chunk);
      })
      .catch(() => undefined);
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
