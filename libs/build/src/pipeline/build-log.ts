import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, WriteStream } from 'node:fs';

/** Appends the build log to a file while hashing it, so the provenance can name its digest. */
export class BuildLog {
  private readonly hash = createHash('sha256');
  private readonly stream: WriteStream;
  private size = 0;
  private closing?: Promise<{ sha256: string; size: number }>;
  private failure?: Error;

  constructor(
    path: string,
    private readonly onChunk?: (chunk: string) => void,
  ) {
    this.stream = createWriteStream(path, { flags: 'w', mode: 0o644 });
    // Without a listener a failed open or write (ENOENT, ENOSPC) is an uncaught exception that takes
    // down the whole worker; instead the build fails when the log is sealed.
    this.stream.on('error', (error) => (this.failure ??= error));
  }

  /** Appends text; ignored once the log is sealed (its digest is already in the provenance). */
  write(chunk: string): void {
    if (this.closing) return;
    const bytes = Buffer.from(chunk, 'utf8');
    this.hash.update(bytes);
    this.size += bytes.length;
    this.stream.write(bytes);
    this.onChunk?.(chunk);
  }

  line(text: string): void {
    this.write(`${text}\n`);
  }

  /** Seals the log (idempotent): flushes the file and returns its digest and size. */
  close(): Promise<{ sha256: string; size: number }> {
    this.closing ??= (async () => {
      const result = { sha256: this.hash.digest('hex'), size: this.size };
      this.stream.end();
      if (!this.stream.closed) await once(this.stream, 'close');
      if (this.failure) throw this.failure;
      return result;
    })();
    return this.closing;
  }
}
