import { createHash } from 'node:crypto';
import { closeSync, constants, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';
import { blobPathIn, tempPathIn } from './blob-store';
import { GzipHeaderNormalizer } from './gzip-header';
import { HashingStream } from './hashing-stream';
import { type LayerSource, type PlannedEntry, planLayer, tarName } from './layer-plan';
import { MEDIA_TYPE_LAYER_TAR_GZIP } from './media-types';
import { OciError } from './oci-error';
import { assertSourceDateEpoch } from './source-date-epoch';
import type { LayerDescriptor } from './types';

/** Default gzip level; part of the reproducibility contract (recorded with the zlib version). */
export const DEFAULT_COMPRESSION_LEVEL = 6;

/** Input of {@link writeLayer}. */
export interface WriteLayerOptions {
  /** Host paths and where they land in the image; all go into one layer. */
  entries: readonly LayerSource[];
  /** Every entry's mtime; also decides nothing else, the clock is never read. */
  sourceDateEpoch: number;
  /** The layout's `blobs/` directory; the layer lands in `<blobsDir>/sha256/<hex>`. */
  blobsDir: string;
  /** gzip level 0–9, default 6. */
  compressionLevel?: number;
}

/** A layer written by this lib: its descriptor plus counts for reports. */
export interface LayerResult extends LayerDescriptor {
  mediaType: typeof MEDIA_TYPE_LAYER_TAR_GZIP;
  /** Number of regular files in the layer. */
  files: number;
  /** Number of tar entries (directories, files, symlinks). */
  entries: number;
  /** Size of the uncompressed tar in bytes. */
  uncompressedSize: number;
}

/** Throws INVALID_INPUT unless `level` is an integer gzip level 0–9. */
export function assertCompressionLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new OciError('INVALID_INPUT', `compressionLevel must be an integer 0-9, got ${level}`);
  }
}

/**
 * How tar bytes are handed to zlib. For levels 1–9 the deflate output does not depend on how the
 * input is split or on zlib's output buffer size, so the writer packs headers and file data into
 * large chunks: few thread-pool round trips, zlib never idle between small pieces. Level 0
 * (stored blocks) is the exception: zlib cuts stored blocks where input and output buffers end, so
 * that level keeps the exact pieces earlier versions wrote (each header, padding and 64 KiB read
 * separately, 16 KiB output buffers) and its layers keep their digests.
 */
interface Chunking {
  /** Coalesce pieces into chunks of `chunkSize` (false: every piece is its own zlib write). */
  coalesce: boolean;
  /** Chunk size in coalescing mode; read size of file data otherwise. */
  chunkSize: number;
  /** zlib output buffer size (`chunkSize` option of createGzip); undefined keeps Node's 16 KiB. */
  zlibChunkSize: number | undefined;
}

const COALESCED: Chunking = { coalesce: true, chunkSize: 512 * 1024, zlibChunkSize: 256 * 1024 };
const STORED: Chunking = { coalesce: false, chunkSize: 64 * 1024, zlibChunkSize: undefined };
/** Chunks handed to zlib and not yet compressed: one in progress and one queued, so zlib never waits. */
const MAX_IN_FLIGHT = 2;

/**
 * Packs the sources into one deterministic gzip layer in a single streaming pass: sorted entries,
 * normalized headers (mtime = SOURCE_DATE_EPOCH, uid/gid 0, no owner names, normalized modes),
 * DiffID hashed on the tar bytes, blob digest on the compressed bytes. The blob is written to a
 * temporary file in `blobsDir` and renamed to its content address. File contents are streamed,
 * never buffered whole: a handful of chunks (512 KiB in, 256 KiB out) are in memory at once.
 *
 * Files are opened, checked and read with synchronous calls in slices of at most one chunk, so the
 * event loop is held for about a millisecond at a time (page-cache speed) and given back whenever
 * zlib, which compresses on the libuv thread pool in parallel, has enough queued input. One
 * thread-pool round trip per file (open, stat, read, close) would cost more than the reading itself.
 */
export async function writeLayer(options: WriteLayerOptions): Promise<LayerResult> {
  assertSourceDateEpoch(options.sourceDateEpoch);
  const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  assertCompressionLevel(level);
  const plan = await planLayer(options.entries);

  await mkdir(join(options.blobsDir, 'sha256'), { recursive: true });
  const temp = tempPathIn(options.blobsDir);
  const chunking = level === 0 ? STORED : COALESCED;
  const sink = new GzipBlobSink(temp, level, chunking.zlibChunkSize);
  try {
    const writer = new TarChunkWriter(sink, chunking);
    for (const entry of plan) await writeEntry(writer, entry, options.sourceDateEpoch);
    await writer.put(END_OF_TAR);
    await writer.flush();
    await sink.end();
    const digest = sink.digest();
    await rename(temp, blobPathIn(options.blobsDir, digest));
    return {
      digest,
      diffId: sink.diffId(),
      size: sink.size,
      mediaType: MEDIA_TYPE_LAYER_TAR_GZIP,
      files: plan.filter((entry) => entry.type === 'file').length,
      entries: plan.length,
      uncompressedSize: sink.tarSize,
    };
  } catch (error) {
    await sink.abort(error);
    await rm(temp, { force: true });
    throw error;
  }
}

async function writeEntry(writer: TarChunkWriter, entry: PlannedEntry, sourceDateEpoch: number): Promise<void> {
  const header: TarHeader = {
    name: tarName(entry),
    type: entry.type,
    mode: entry.mode,
    mtime: sourceDateEpoch,
    size: entry.type === 'file' ? entry.size : 0,
    linkname: entry.linkname,
  };
  if (entry.type !== 'file') {
    for (const piece of encodeHeader(header)) await writer.put(piece);
    return;
  }
  const { hostPath, size } = entry;
  if (hostPath === undefined) throw new OciError('INVALID_INPUT', `planned file /${entry.path} has no host path`);
  let fd: number;
  try {
    // O_NOFOLLOW: a file swapped for a symlink after the walk must not pull host files into the layer.
    // O_NONBLOCK: a file swapped for a fifo must not block the open (fstat then refuses it).
    fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    throw sourceChanged(hostPath, 'cannot be opened as a regular file', error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size !== size) {
      throw sourceChanged(hostPath, `changed while packing (size ${size} → ${stats.size})`);
    }
    for (const piece of encodeHeader(header)) await writer.put(piece);
    const copied = await writer.copyFile(fd, size);
    if (copied !== size) throw sourceChanged(hostPath, `shrank while packing (${size} → ${copied} bytes)`);
    const partial = size % BLOCK;
    if (partial !== 0) await writer.put(END_OF_TAR.subarray(0, BLOCK - partial));
  } finally {
    closeSync(fd);
  }
}

function sourceChanged(path: string, what: string, cause?: unknown): OciError {
  return new OciError('SOURCE_CHANGED', `layer source ${path} ${what}`, { cause, details: { path } });
}

/**
 * Collects tar bytes into chunks and hands full chunks to the sink. File data is read straight
 * into the current chunk (no intermediate copy); a chunk's buffer is reused once zlib consumed it,
 * so a layer allocates MAX_IN_FLIGHT + 1 chunk buffers in all.
 */
class TarChunkWriter {
  private chunk: Buffer;
  private used = 0;
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly sink: GzipBlobSink,
    private readonly chunking: Chunking,
  ) {
    this.chunk = Buffer.allocUnsafe(chunking.coalesce ? chunking.chunkSize : 0);
  }

  /** Appends bytes (headers, padding, the end-of-archive blocks). */
  async put(bytes: Buffer): Promise<void> {
    if (!this.chunking.coalesce) {
      await this.sink.write(bytes);
      return;
    }
    let offset = 0;
    while (offset < bytes.length) {
      const n = bytes.copy(this.chunk, this.used, offset);
      this.used += n;
      offset += n;
      if (this.used === this.chunk.length) await this.flush();
    }
  }

  /** Appends the first `size` bytes of an open file; returns how many it could read (less: it shrank). */
  async copyFile(fd: number, size: number): Promise<number> {
    let copied = 0;
    while (copied < size) {
      if (!this.chunking.coalesce) {
        const piece = Buffer.allocUnsafe(Math.min(size - copied, this.chunking.chunkSize));
        const n = readFully(fd, piece, 0, piece.length, copied);
        copied += n;
        if (n < piece.length) break;
        await this.sink.write(piece);
        continue;
      }
      const length = Math.min(size - copied, this.chunk.length - this.used);
      const n = readFully(fd, this.chunk, this.used, length, copied);
      copied += n;
      this.used += n;
      if (n < length) break;
      if (this.used === this.chunk.length) await this.flush();
    }
    // Fewer bytes than `size`: EOF came early; the caller reports SOURCE_CHANGED and the layer is dropped.
    return copied;
  }

  /** Hands the bytes collected so far to the sink. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const buffer = this.chunk;
    const full = buffer.subarray(0, this.used);
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(this.chunking.chunkSize);
    this.used = 0;
    // zlib reads the chunk after write() returns; its buffer is free again once zlib consumed it.
    await this.sink.write(full, () => this.spare.push(buffer));
  }
}

/** Reads until `length` bytes or EOF; returns the count. */
function readFully(fd: number, target: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, target, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * The compressing end of a layer: hashes the tar bytes (DiffID), compresses them with zlib on the
 * thread pool, pins the gzip header, hashes the compressed bytes (digest) and writes them to the
 * temporary blob file. At most {@link MAX_IN_FLIGHT} chunks wait for zlib; `write` resolves when
 * there is room, so the producer runs ahead of the compressor by one chunk and no further.
 */
class GzipBlobSink {
  tarSize = 0;
  private readonly tarHash = createHash('sha256');
  private readonly blobHash = new HashingStream();
  private readonly gzip: Gzip;
  private readonly written: Promise<void>;
  private inFlight = 0;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(temp: string, level: number, zlibChunkSize: number | undefined) {
    this.gzip = createGzip(zlibChunkSize === undefined ? { level } : { level, chunkSize: zlibChunkSize });
    this.written = pipeline(
      this.gzip,
      new GzipHeaderNormalizer(),
      this.blobHash,
      createWriteStream(temp, { flags: 'wx', mode: 0o644 }),
    );
    // Seen by the producer on its next write; the rejection itself is awaited in end()/abort().
    this.written.catch((error: unknown) => this.fail(error));
  }

  /** Hashes and queues a chunk; `consumed` runs once zlib no longer reads it. Waits while the queue is full. */
  async write(chunk: Buffer, consumed?: () => void): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.tarHash.update(chunk);
    this.tarSize += chunk.length;
    this.inFlight += 1;
    this.gzip.write(chunk, (error?: Error | null) => {
      this.inFlight -= 1;
      if (error) this.fail(error);
      else consumed?.();
      this.notify();
    });
    while (this.inFlight >= MAX_IN_FLIGHT && this.failure === undefined) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** Flushes zlib and waits until every compressed byte is in the file. */
  async end(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.gzip.end();
    await this.written;
  }

  /** Stops compressing after a failure and waits until the blob file is closed. */
  async abort(reason: unknown): Promise<void> {
    this.fail(reason);
    this.gzip.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    await this.written.catch(() => undefined);
  }

  digest(): string {
    return this.blobHash.digest();
  }

  diffId(): string {
    return `sha256:${this.tarHash.digest('hex')}`;
  }

  get size(): number {
    return this.blobHash.size;
  }

  private fail(error: unknown): void {
    if (this.failure === undefined) this.failure = error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

// ---- tar headers ------------------------------------------------------------------------------
// ustar headers with pax records for names that do not fit, byte-for-byte what tar-stream 3 writes
// for these fields (earlier versions of this writer used it, and layer digests must not change):
// uid/gid 0, empty uname/gname, devmajor/devminor 0, a pax `path`/`linkpath` record only when the
// name is not ASCII or cannot be split into a 155-byte prefix and a 100-byte name.

const BLOCK = 512;
const END_OF_TAR = Buffer.alloc(2 * BLOCK);
const USTAR_MAGIC = Buffer.from('ustar\u000000', 'latin1');
const PAX_NAME = 'PaxHeader';
const TYPEFLAGS: Record<PlannedEntry['type'] | 'pax-header', number> = {
  file: 0,
  symlink: 2,
  directory: 5,
  'pax-header': 72, // 'x'
};

interface TarHeader {
  name: string;
  type: PlannedEntry['type'] | 'pax-header';
  mode: number;
  /** Seconds; SOURCE_DATE_EPOCH is checked to fit 32 bits. */
  mtime: number;
  size: number;
  linkname?: string;
}

/** The pieces of one entry's header: one ustar block, or pax header, pax records, padding, ustar block. */
function encodeHeader(header: TarHeader): Buffer[] {
  const ustar = encodeUstar(header);
  if (ustar !== null) return [ustar];
  let records = '';
  if (header.name) records += paxRecord(` path=${header.name}\n`);
  if (header.linkname) records += paxRecord(` linkpath=${header.linkname}\n`);
  const pax = Buffer.from(records, 'utf8');
  const linkname = header.linkname ? PAX_NAME : undefined;
  const paxHeader = encodeUstar({ ...header, name: PAX_NAME, type: 'pax-header', size: pax.length, linkname });
  const mainHeader = encodeUstar({ ...header, name: PAX_NAME, linkname });
  if (paxHeader === null || mainHeader === null) throw new Error('unreachable: fixed pax header names fit');
  const pieces = [paxHeader, pax];
  if (pax.length % BLOCK !== 0) pieces.push(END_OF_TAR.subarray(0, BLOCK - (pax.length % BLOCK)));
  pieces.push(mainHeader);
  return pieces;
}

/** One ustar header block, or null when the name or link target needs a pax record. */
function encodeUstar(header: TarHeader): Buffer | null {
  let name = header.name;
  let prefix = '';
  if (Buffer.byteLength(name) !== name.length) return null; // not ASCII
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) return null;
    prefix += prefix ? `/${name.slice(0, slash)}` : name.slice(0, slash);
    name = name.slice(slash + 1);
  }
  if (prefix.length > 155) return null;
  const linkname = header.linkname ?? '';
  if (Buffer.byteLength(linkname) > 100) return null;

  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 'latin1');
  block.write(octal(header.mode & 0o7777, 6), 100, 'latin1');
  block.write(octal(0, 6), 108, 'latin1'); // uid
  block.write(octal(0, 6), 116, 'latin1'); // gid
  writeSize(block, header.size);
  block.write(octal(header.mtime, 11), 136, 'latin1');
  block[156] = 0x30 + TYPEFLAGS[header.type];
  if (linkname) block.write(linkname, 157, 'utf8');
  USTAR_MAGIC.copy(block, 257);
  block.write(octal(0, 6), 329, 'latin1'); // devmajor
  block.write(octal(0, 6), 337, 'latin1'); // devminor
  if (prefix) block.write(prefix, 345, 'latin1');
  block.write(octal(checksum(block), 6), 148, 'latin1');
  return block;
}

/** `digits` octal digits and a space; all sevens when the value does not fit (as tar-stream). */
function octal(value: number, digits: number): string {
  const text = value.toString(8);
  return text.length > digits ? `${'7'.repeat(digits)} ` : `${text.padStart(digits, '0')} `;
}

/** Size field: 11 octal digits, or base-256 (GNU) from 8 GiB on. */
function writeSize(block: Buffer, size: number): void {
  if (size.toString(8).length <= 11) {
    block.write(octal(size, 11), 124, 'latin1');
    return;
  }
  block[124] = 0x80;
  let rest = size;
  for (let i = 11; i > 0; i -= 1) {
    block[124 + i] = rest & 0xff;
    rest = Math.floor(rest / 0x100);
  }
}

/** Header checksum: byte sum with the checksum field counted as eight spaces. */
function checksum(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i += 1) sum += block[i];
  for (let i = 156; i < BLOCK; i += 1) sum += block[i];
  return sum;
}

/** A pax record `<length> <key>=<value>\n`, whose length counts its own digits. */
function paxRecord(text: string): string {
  const length = Buffer.byteLength(text);
  // Same digit count computation as tar-stream (floating-point log corrected by the comparison).
  let digits = Math.floor(Math.log(length) / Math.log(10)) + 1;
  if (length + digits >= Math.pow(10, digits)) digits += 1;
  return `${length + digits}${text}`;
}
