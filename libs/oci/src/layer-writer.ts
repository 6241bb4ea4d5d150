import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { blobPathIn, tempPathIn } from './blob-store';
import { GzipHeaderNormalizer } from './gzip-header';
import { HashingStream } from './hashing-stream';
import { type LayerSource, type PlannedEntry, planLayer, tarName } from './layer-plan';
import { MEDIA_TYPE_LAYER_TAR_GZIP } from './media-types';
import { OciError } from './oci-error';
import { assertSourceDateEpoch } from './source-date-epoch';
import { drained } from './stream-util';
import type { LayerDescriptor } from './types';

/** Default gzip level; part of the reproducibility contract (recorded with the zlib version). */
export const DEFAULT_COMPRESSION_LEVEL = 6;

const READ_CHUNK = 64 * 1024;

type TarHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;
type TarSink = ReturnType<tar.Pack['entry']>;

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
 * Packs the sources into one deterministic gzip layer in a single streaming pass: sorted entries,
 * normalized headers (mtime = SOURCE_DATE_EPOCH, uid/gid 0, no owner names, normalized modes),
 * DiffID hashed on the tar bytes, blob digest on the compressed bytes. The blob is written to a
 * temporary file in `blobsDir` and renamed to its content address. File contents are streamed,
 * never buffered whole.
 */
export async function writeLayer(options: WriteLayerOptions): Promise<LayerResult> {
  assertSourceDateEpoch(options.sourceDateEpoch);
  const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  assertCompressionLevel(level);
  const plan = await planLayer(options.entries);

  await mkdir(join(options.blobsDir, 'sha256'), { recursive: true });
  const temp = tempPathIn(options.blobsDir);
  const pack = tar.pack();
  const tarHash = new HashingStream();
  const blobHash = new HashingStream();
  const mtime = new Date(options.sourceDateEpoch * 1000);

  let feedError: unknown;
  const feeding = feedEntries(pack, plan, mtime).catch((error: unknown) => {
    feedError = error;
    pack.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  const writing = pipeline(
    Readable.from(pack),
    tarHash,
    createGzip({ level }),
    new GzipHeaderNormalizer(),
    blobHash,
    createWriteStream(temp, { flags: 'wx', mode: 0o644 }),
  ).catch((error: unknown) => {
    // Make sure the feeder stops waiting for a reader that is gone.
    pack.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  });
  const [, written] = await Promise.allSettled([feeding, writing]);
  try {
    // A domain error from the feeder (e.g. SOURCE_CHANGED) explains more than the broken pipe it causes.
    if (feedError instanceof OciError) throw feedError;
    if (written.status === 'rejected') throw written.reason;
    if (feedError !== undefined) throw feedError;
    const digest = blobHash.digest();
    await rename(temp, blobPathIn(options.blobsDir, digest));
    return {
      digest,
      diffId: tarHash.digest(),
      size: blobHash.size,
      mediaType: MEDIA_TYPE_LAYER_TAR_GZIP,
      files: plan.filter((entry) => entry.type === 'file').length,
      entries: plan.length,
      uncompressedSize: tarHash.size,
    };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function feedEntries(pack: tar.Pack, plan: readonly PlannedEntry[], mtime: Date): Promise<void> {
  for (const entry of plan) {
    const header: TarHeader = {
      name: tarName(entry),
      type: entry.type,
      mode: entry.mode,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      mtime,
      size: entry.type === 'file' ? entry.size : 0,
      linkname: entry.linkname,
    };
    if (entry.type === 'file' && entry.hostPath !== undefined) {
      await writeFileEntry(pack, header, entry.hostPath, entry.size);
    } else {
      await new Promise<void>((resolve, reject) => {
        pack.entry(header, (error?: Error | null) => (error ? reject(error) : resolve()));
      });
    }
  }
  pack.finalize();
}

async function writeFileEntry(pack: tar.Pack, header: TarHeader, hostPath: string, size: number): Promise<void> {
  // O_NOFOLLOW: a file swapped for a symlink after the walk must not pull host files into the layer.
  const handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
    throw sourceChanged(hostPath, 'cannot be opened as a regular file', error);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size !== size) {
      throw sourceChanged(hostPath, `changed while packing (size ${size} → ${stats.size})`);
    }
    let done!: Promise<void>;
    const sink = await new Promise<TarSink>((resolveSink) => {
      done = new Promise<void>((resolve, reject) => {
        resolveSink(pack.entry(header, (error?: Error | null) => (error ? reject(error) : resolve())));
      });
    });
    let copied = 0;
    if (size > 0) {
      const source = handle.createReadStream({ start: 0, end: size - 1, autoClose: false, highWaterMark: READ_CHUNK });
      for await (const chunk of source as AsyncIterable<Buffer>) {
        copied += chunk.length;
        if (!sink.write(chunk)) await drained(sink);
      }
    }
    if (copied !== size) {
      sink.destroy();
      await done.catch(() => undefined);
      throw sourceChanged(hostPath, `shrank while packing (${size} → ${copied} bytes)`);
    }
    sink.end(undefined);
    await done;
  } finally {
    await handle.close();
  }
}

function sourceChanged(path: string, what: string, cause?: unknown): OciError {
  return new OciError('SOURCE_CHANGED', `layer source ${path} ${what}`, { cause, details: { path } });
}
