import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { RegistryError } from './registry-error';
import type { RegistryResponse, Transport } from './transport';

/** A blob to download and where from. */
export interface DownloadJob {
  repository: string;
  blob: { digest: string; size: number };
}

/** GET /v2/<name>/blobs/<digest> (redirects followed, Authorization never sent to another origin). */
export function blobRequest(job: DownloadJob) {
  return {
    method: 'GET' as const,
    url: `/v2/${job.repository}/blobs/${job.blob.digest}`,
    scopes: [`repository:${job.repository}:pull`],
    // A transparently decompressed body would not hash to the digest.
    headers: { 'accept-encoding': 'identity' },
  };
}

/** Reads a small blob into memory, verifying size and digest. */
export async function downloadBlob(transport: Transport, job: DownloadJob): Promise<Buffer> {
  return transport.request(blobRequest(job), async (response) => {
    await expectBlobResponse(response, job);
    const bytes = await response.bytes(job.blob.size, () => sizeMismatch(response, job, 'more than'));
    if (bytes.length !== job.blob.size) throw sizeMismatch(response, job, `${bytes.length} instead of`);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== job.blob.digest) throw digestMismatch(response, job, actual);
    return bytes;
  });
}

/**
 * Streams a blob into a temporary file beside `path` (hashing as it goes), then renames it into
 * place once size and digest match; the temporary file is removed on any failure.
 */
export async function downloadBlobToFile(transport: Transport, job: DownloadJob, path: string): Promise<void> {
  await transport.request(blobRequest(job), async (response) => {
    await expectBlobResponse(response, job);
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
    try {
      const hash = createHash('sha256');
      let total = 0;
      await pipeline(
        response.chunks(),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            total += chunk.length;
            if (total > job.blob.size) throw sizeMismatch(response, job, 'more than');
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(temp, { flags: 'wx', mode: 0o644 }),
      );
      if (total !== job.blob.size) throw sizeMismatch(response, job, `${total} instead of`);
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== job.blob.digest) throw digestMismatch(response, job, actual);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  });
}

async function expectBlobResponse(response: RegistryResponse, job: DownloadJob): Promise<void> {
  if (response.status !== 200)
    throw await response.fail(response.status === 404 ? 'BLOB_UNKNOWN' : 'REGISTRY_PROTOCOL', '200');
  const length = response.headers.get('content-length');
  if (length !== null && /^\d+$/.test(length) && Number(length) !== job.blob.size) {
    await response.discard();
    throw sizeMismatch(response, job, `Content-Length ${length} instead of`);
  }
}

function sizeMismatch(response: RegistryResponse, job: DownloadJob, got: string): RegistryError {
  return new RegistryError(
    'SIZE_MISMATCH',
    `${response.method} ${response.url.host}${response.url.pathname}: blob ${job.blob.digest} has ${got} ${job.blob.size} bytes`,
    { details: { repository: job.repository, digest: job.blob.digest, expectedSize: job.blob.size } },
  );
}

function digestMismatch(response: RegistryResponse, job: DownloadJob, actual: string): RegistryError {
  return new RegistryError(
    'DIGEST_MISMATCH',
    `${response.method} ${response.url.host}${response.url.pathname}: content hashes to ${actual}, expected ${job.blob.digest}`,
    { details: { repository: job.repository, expected: job.blob.digest, actual } },
  );
}
