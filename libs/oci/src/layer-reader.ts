import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { blobPath, sha256File } from './blob-store';
import { HashingStream } from './hashing-stream';
import { OciError } from './oci-error';
import { drained } from './stream-util';

/** Entry kinds reported for a layer (tar-stream's names). */
export type LayerEntryType = tar.Header['type'];

/** One tar entry of a layer, as compared in reproducibility reports. */
export interface LayerEntry {
  /** Absolute path in the image (`/app/a.txt`; `/` for a root entry). */
  path: string;
  type: LayerEntryType;
  /** Permission bits (07777). */
  mode: number;
  size: number;
  linkname?: string;
  /** Hex SHA-256 of the content (regular files only). */
  sha256?: string;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** mtime in integer seconds. */
  mtime: number;
}

/** Entries of a layer plus the digests observed while reading it. */
export interface LayerScan {
  entries: LayerEntry[];
  /** SHA-256 of the stored blob. */
  digest: string;
  /** SHA-256 of the uncompressed tar. */
  diffId: string;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/**
 * Lists the entries of a layer blob in a layout, in archive order, streaming-decompressing it
 * (gzip or plain tar, detected from the magic bytes) and hashing file contents on the way. The
 * blob must hash to `layerDigest` (DIGEST_MISMATCH otherwise).
 */
export async function listLayerEntries(layoutDir: string, layerDigest: string): Promise<LayerEntry[]> {
  return (await scanLayer(layoutDir, layerDigest)).entries;
}

/** Like {@link listLayerEntries}, also returning the blob digest and the DiffID it computed. */
export async function scanLayer(layoutDir: string, layerDigest: string): Promise<LayerScan> {
  const path = blobPath(layoutDir, layerDigest);
  const handle = await open(path).catch((error: unknown) => {
    throw new OciError('BLOB_MISSING', `layer blob ${layerDigest} is missing: ${path}`, {
      cause: error,
      details: { path, digest: layerDigest },
    });
  });
  try {
    const magic = await readMagic(handle);
    if (startsWith(magic, ZSTD_MAGIC)) {
      throw new OciError('UNSUPPORTED_MEDIA_TYPE', `zstd layers are not supported: ${path}`, { details: { path } });
    }
    const blobHash = new HashingStream();
    const tarHash = new HashingStream();
    const extract = tar.extract();
    const decompress = startsWith(magic, GZIP_MAGIC) ? createGunzip() : new PassThrough();
    let readError: unknown;
    const reading = collectEntries(extract).catch((error: unknown) => {
      readError = error;
      extract.destroy(error instanceof Error ? error : new Error(String(error)));
      return [];
    });
    const feeding = pipeline(
      handle.createReadStream({ autoClose: false, start: 0 }),
      blobHash,
      decompress,
      tarHash,
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) if (!extract.write(chunk)) await drained(extract);
        extract.end(undefined);
      },
    ).catch((error: unknown) => {
      // Unblock the entry iterator, which would otherwise wait forever for more input.
      extract.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
    const [entries, fed] = await Promise.allSettled([reading, feeding]);
    const failure = fed.status === 'rejected' ? fed.reason : readError;
    if (failure !== undefined) {
      // A corrupt blob usually breaks gunzip first; report the digest mismatch, the actual cause.
      const actual = await sha256File(path);
      if (actual !== layerDigest) throw digestMismatch(path, layerDigest, actual, failure);
      throw asLayerError(failure, path);
    }
    const digest = blobHash.digest();
    if (digest !== layerDigest) throw digestMismatch(path, layerDigest, digest);
    return { entries: entries.status === 'fulfilled' ? entries.value : [], digest, diffId: tarHash.digest() };
  } finally {
    await handle.close();
  }
}

async function collectEntries(extract: tar.Extract): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  for await (const entry of extract) {
    const { header } = entry;
    const hash = createHash('sha256');
    for await (const chunk of entry) hash.update(chunk as Buffer);
    entries.push({
      path: imagePath(header.name),
      type: header.type,
      mode: header.mode & 0o7777,
      size: header.size,
      linkname: header.linkname ? header.linkname : undefined,
      sha256: header.type === 'file' || header.type === 'contiguous-file' ? hash.digest('hex') : undefined,
      uid: header.uid,
      gid: header.gid,
      uname: header.uname ?? '',
      gname: header.gname ?? '',
      mtime: Math.floor(header.mtime.getTime() / 1000),
    });
  }
  return entries;
}

/** `./app/x/` → `/app/x`; `./` → `/`. */
function imagePath(name: string): string {
  const trimmed = name.replace(/^(?:\.\/|\/)+/, '').replace(/\/+$/, '');
  return trimmed === '' || trimmed === '.' ? '/' : `/${trimmed}`;
}

async function readMagic(handle: FileHandle): Promise<Buffer> {
  const buffer = Buffer.alloc(4);
  const { bytesRead } = await handle.read(buffer, 0, 4, 0);
  return buffer.subarray(0, bytesRead);
}

function startsWith(buffer: Buffer, magic: number[]): boolean {
  return buffer.length >= magic.length && magic.every((byte, i) => buffer[i] === byte);
}

function digestMismatch(path: string, expected: string, actual: string, cause?: unknown): OciError {
  return new OciError('DIGEST_MISMATCH', `layer blob ${path} hashes to ${actual}, expected ${expected}`, {
    cause,
    details: { path, expected, actual },
  });
}

function asLayerError(error: unknown, path: string): unknown {
  if (error instanceof OciError) return error;
  return new OciError('LAYOUT_INVALID', `layer ${path} is not a readable tar: ${(error as Error)?.message}`, {
    cause: error,
    details: { path },
  });
}
