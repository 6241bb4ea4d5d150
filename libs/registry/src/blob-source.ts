import { createHash } from 'node:crypto';

import { RegistryError } from './registry-error';

/** What `pushBlob`'s `open()` may return. */
export type BlobContent = NodeJS.ReadableStream | Buffer;

/**
 * The content of one upload attempt, checked against the descriptor while it streams: more bytes
 * than `size` fail at once, and the last chunk is held back until the digest is confirmed, so a
 * registry never receives complete content that does not hash to the digest.
 */
export class VerifiedBlobSource {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer | undefined;

  constructor(
    private readonly content: BlobContent,
    private readonly blob: { digest: string; size: number },
  ) {
    this.iterator = verify(toChunks(content), blob)[Symbol.asyncIterator]();
  }

  /** Streams the next `length` bytes; throws SIZE_MISMATCH when the content ends early. */
  async *take(length: number): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      let chunk = this.pending;
      this.pending = undefined;
      if (chunk === undefined) {
        const next = await this.iterator.next();
        if (next.done === true) throw sizeMismatch(this.blob, 'ended early');
        chunk = next.value;
      }
      if (chunk.length > left) {
        this.pending = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.length;
      if (chunk.length > 0) yield chunk;
    }
  }

  /** Confirms the content ended exactly after the bytes taken (and was verified). */
  async finish(): Promise<void> {
    if (this.pending !== undefined && this.pending.length > 0) throw sizeMismatch(this.blob, 'is longer');
    const next = await this.iterator.next();
    if (next.done !== true) throw sizeMismatch(this.blob, 'is longer');
  }

  /** Releases the underlying stream (after a failure or once done). */
  close(): void {
    const stream = this.content as { destroy?: () => void };
    if (!Buffer.isBuffer(this.content) && typeof stream.destroy === 'function') stream.destroy();
  }
}

async function* toChunks(content: BlobContent): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(content)) {
    yield content;
    return;
  }
  for await (const chunk of content as AsyncIterable<Buffer | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
}

async function* verify(source: AsyncIterable<Buffer>, blob: { digest: string; size: number }): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let total = 0;
  let held: Buffer | undefined;
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    total += chunk.length;
    if (total > blob.size) throw sizeMismatch(blob, `has more than ${blob.size} bytes`);
    hash.update(chunk);
    if (held !== undefined) yield held;
    held = chunk;
  }
  if (total !== blob.size) throw sizeMismatch(blob, `has ${total} bytes`);
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== blob.digest) {
    throw new RegistryError('DIGEST_MISMATCH', `local content of blob ${blob.digest} hashes to ${actual}`, {
      details: { expected: blob.digest, actual },
    });
  }
  if (held !== undefined) yield held;
}

function sizeMismatch(blob: { digest: string; size: number }, problem: string): RegistryError {
  return new RegistryError('SIZE_MISMATCH', `local content of blob ${blob.digest} ${problem}, expected ${blob.size}`, {
    details: { digest: blob.digest, expectedSize: blob.size },
  });
}
