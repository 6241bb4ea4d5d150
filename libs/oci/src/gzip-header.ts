import { Transform, type TransformCallback } from 'node:stream';
import { OciError } from './oci-error';

const HEADER_LENGTH = 10;
const OS_UNIX = 3;

/**
 * Pins the variable fields of the 10-byte gzip member header that a compressor copies from its
 * environment: MTIME (bytes 4–7) becomes 0 and OS (byte 9) becomes 3 (Unix) so a build on macOS
 * zlib (OS 19) matches Linux. Node already writes MTIME 0 and no FNAME; this enforces it, and
 * refuses headers with optional fields (FLG ≠ 0), whose removal would shift the stream. The header
 * is not covered by the gzip CRC, so rewriting it keeps the member valid.
 */
export class GzipHeaderNormalizer extends Transform {
  private seen = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.seen >= HEADER_LENGTH) {
      callback(null, chunk);
      return;
    }
    const out = Buffer.from(chunk);
    for (let i = 0; i < out.length && this.seen < HEADER_LENGTH; i += 1, this.seen += 1) {
      const error = this.fix(out, i, this.seen);
      if (error) {
        callback(error);
        return;
      }
    }
    callback(null, out);
  }

  private fix(buf: Buffer, index: number, position: number): OciError | undefined {
    const expected: Record<number, number> = { 0: 0x1f, 1: 0x8b, 2: 0x08, 3: 0x00 };
    if (position in expected && buf[index] !== expected[position]) {
      return new OciError(
        'INVALID_INPUT',
        `compressor wrote an unexpected gzip header byte ${position}: 0x${buf[index].toString(16)}`,
      );
    }
    if (position >= 4 && position <= 7) buf[index] = 0;
    if (position === 9) buf[index] = OS_UNIX;
    return undefined;
  }

  override _flush(callback: TransformCallback): void {
    callback(
      this.seen === 0 || this.seen >= HEADER_LENGTH ? null : new OciError('INVALID_INPUT', 'truncated gzip header'),
    );
  }
}
