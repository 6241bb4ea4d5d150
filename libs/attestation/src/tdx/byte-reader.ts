import { QuoteFormatError } from '../errors';

/** Bounded little-endian cursor over a quote; every read names its field for error messages. */
export class QuoteReader {
  constructor(
    private readonly buf: Buffer,
    public offset: number,
    /** Exclusive end of the envelope being read. */
    readonly end: number,
    private readonly envelope: string,
  ) {}

  /** Copies `length` bytes. */
  take(length: number, field: string): Buffer {
    this.ensure(length, field);
    const out = Buffer.from(this.buf.subarray(this.offset, this.offset + length));
    this.offset += length;
    return out;
  }

  /** Reads a little-endian u16. */
  u16(field: string): number {
    this.ensure(2, field);
    const value = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return value;
  }

  /** Reads a little-endian u32. */
  u32(field: string): number {
    this.ensure(4, field);
    const value = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Opens a nested envelope of `size` bytes starting here, which must fit inside this one. */
  nested(size: number, field: string, name: string): QuoteReader {
    if (this.offset + size > this.end) {
      throw new QuoteFormatError(
        field,
        this.offset,
        `declared size ${size} overruns ${this.envelope} by ${this.offset + size - this.end} bytes`,
      );
    }
    return new QuoteReader(this.buf, this.offset, this.offset + size, name);
  }

  /** Requires that the envelope was consumed exactly. */
  expectEnd(field: string): void {
    if (this.offset !== this.end) {
      throw new QuoteFormatError(
        field,
        this.offset,
        `${this.end - this.offset} unconsumed bytes: nested sizes do not add up to ${this.envelope}`,
      );
    }
  }

  private ensure(length: number, field: string): void {
    if (this.offset + length > this.end) {
      throw new QuoteFormatError(
        field,
        this.offset,
        `truncated: needs ${length} bytes, ${this.end - this.offset} remain in ${this.envelope}`,
      );
    }
  }
}
