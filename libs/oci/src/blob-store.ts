import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSha256Digest, sha256Digest } from '@secure-build/common';
import { OciError } from './oci-error';
import type { Descriptor } from './types';

/** Streams a file through SHA-256 and returns `sha256:<hex>`. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Path of a blob inside `blobsDir` (the layout's `blobs/` directory); refuses malformed digests. */
export function blobPathIn(blobsDir: string, digest: string): string {
  if (!isSha256Digest(digest)) {
    throw new OciError('LAYOUT_INVALID', `not a sha256 digest: ${JSON.stringify(digest)}`, { details: { digest } });
  }
  return join(blobsDir, 'sha256', digest.slice('sha256:'.length));
}

/** Path of a blob inside an image layout directory. */
export function blobPath(layoutDir: string, digest: string): string {
  return blobPathIn(join(layoutDir, 'blobs'), digest);
}

/** A fresh, unpredictable temporary file name next to the final location (same filesystem for rename). */
export function tempPathIn(dir: string): string {
  return join(dir, `.tmp-${process.pid}-${randomBytes(8).toString('hex')}`);
}

/** Writes a file through a temporary sibling and a rename, so readers never see partial content. */
export async function writeFileAtomic(path: string, dir: string, bytes: Buffer | string): Promise<void> {
  const temp = tempPathIn(dir);
  try {
    await writeFile(temp, bytes, { flag: 'wx', mode: 0o644 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Stores small in-memory content (manifests, configs) as a blob and returns its descriptor. */
export async function writeBlob(layoutDir: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const digest = sha256Digest(bytes);
  const blobsDir = join(layoutDir, 'blobs');
  await mkdir(join(blobsDir, 'sha256'), { recursive: true });
  await writeFileAtomic(blobPathIn(blobsDir, digest), blobsDir, bytes);
  return { mediaType, digest, size: bytes.length };
}

/**
 * Checks that the blob a descriptor names exists, has the declared size (checked before hashing)
 * and hashes to its digest, streaming the content. Throws BLOB_MISSING or DIGEST_MISMATCH.
 */
export async function verifyBlob(layoutDir: string, descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<void> {
  const path = blobPath(layoutDir, descriptor.digest);
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new OciError('BLOB_MISSING', `blob ${descriptor.digest} is missing from ${layoutDir}`, {
      cause: error,
      details: { path, digest: descriptor.digest },
    });
  });
  if (!stats.isFile() || stats.size !== descriptor.size) {
    throw new OciError(
      'DIGEST_MISMATCH',
      `blob ${path} has size ${stats.size}, descriptor says ${descriptor.size} (${descriptor.digest})`,
      { details: { path, digest: descriptor.digest, expectedSize: descriptor.size, actualSize: stats.size } },
    );
  }
  const actual = await sha256File(path);
  if (actual !== descriptor.digest) {
    throw new OciError('DIGEST_MISMATCH', `blob ${path} hashes to ${actual}, descriptor says ${descriptor.digest}`, {
      details: { path, expected: descriptor.digest, actual },
    });
  }
}
