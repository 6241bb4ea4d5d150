import { isRetryableRegistryError, RegistryError } from './registry-error';
import { VerifiedBlobSource, type BlobContent } from './blob-source';
import type { RegistryResponse, Transport } from './transport';

/** What an upload needs from the client. */
export interface UploadContext {
  transport: Transport;
  retries: number;
  chunkSizeBytes: number;
}

/** A blob to upload, the repository it goes to, and how to (re)open its content. */
export interface UploadJob {
  repository: string;
  blob: { digest: string; size: number };
  open: () => BlobContent;
  /** An upload session already opened (by a mount answered with 202). */
  location?: URL;
}

/**
 * Uploads one blob: POST an upload session, then a monolithic PUT (size ≤ chunk size) or PATCH
 * chunks followed by a closing PUT ?digest=. A transient failure anywhere restarts from a fresh
 * session and a fresh `open()`, up to `retries` times.
 */
export async function uploadBlob(context: UploadContext, job: UploadJob): Promise<void> {
  const { transport } = context;
  let location = job.location;
  for (let attempt = 1; ; attempt += 1) {
    let source: VerifiedBlobSource | undefined;
    try {
      location ??= await startUpload(transport, job.repository);
      source = new VerifiedBlobSource(job.open(), job.blob);
      if (job.blob.size <= context.chunkSizeBytes) await putMonolithic(transport, job, location, source);
      else await putChunked(context, job, location, source);
      return;
    } catch (error) {
      source?.close();
      // A request that already used up its own retries (e.g. the POST) is not restarted again.
      const exhausted = isRetryableRegistryError(error) && typeof error.details?.attempts === 'number';
      if (!isRetryableRegistryError(error) || exhausted || attempt > context.retries) {
        if (location !== undefined) await cancelUpload(transport, job.repository, location);
        throw error;
      }
      const delay = transport.delay(attempt);
      transport.log(`restarting upload of ${job.blob.digest} to ${job.repository} in ${delay} ms: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      location = undefined;
    }
  }
}

/** POST /v2/<name>/blobs/uploads/ → the session's Location (resolved against the request URL). */
export async function startUpload(transport: Transport, repository: string): Promise<URL> {
  return transport.request(
    { method: 'POST', url: `/v2/${repository}/blobs/uploads/`, scopes: pushScopes(repository), body: Buffer.alloc(0) },
    async (response) => {
      if (response.status !== 202) throw await response.fail('REGISTRY_PROTOCOL', '202');
      await response.discard();
      return locationOf(response);
    },
  );
}

/** Best-effort DELETE of an abandoned upload session; never throws. */
export async function cancelUpload(transport: Transport, repository: string, location: URL): Promise<void> {
  try {
    await transport.request(
      { method: 'DELETE', url: location, scopes: pushScopes(repository), retries: 0 },
      (response) => response.discard(),
    );
  } catch {
    // the registry garbage-collects stale sessions anyway
  }
}

/** `Location` of a response, resolved against the request URL; REGISTRY_PROTOCOL when absent. */
export function locationOf(response: RegistryResponse): URL {
  const location = response.headers.get('location');
  if (location === null || location === '') {
    throw new RegistryError(
      'REGISTRY_PROTOCOL',
      `${response.method} ${response.url.host}${response.url.pathname}: ${response.status} without a Location`,
    );
  }
  try {
    const url = new URL(location, response.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    url.hash = '';
    return url;
  } catch {
    throw new RegistryError(
      'REGISTRY_PROTOCOL',
      `${response.method} ${response.url.host}${response.url.pathname}: invalid Location`,
    );
  }
}

/** The upload URL with `digest=` appended to whatever query it carries (never rebuilt). */
export function withDigest(location: URL, digest: string): URL {
  const href = location.href;
  const separator = location.search === '' ? (href.endsWith('?') ? '' : '?') : '&';
  return new URL(`${href}${separator}digest=${encodeURIComponent(digest)}`);
}

/** Token scopes of a push to `repository`. */
export function pushScopes(repository: string): string[] {
  return [`repository:${repository}:pull,push`];
}

async function putMonolithic(transport: Transport, job: UploadJob, location: URL, source: VerifiedBlobSource) {
  const { blob } = job;
  let body: Buffer | { stream: AsyncIterable<Buffer>; length: number };
  if (blob.size === 0) {
    await source.finish();
    body = Buffer.alloc(0);
  } else {
    body = { stream: takeAll(source, blob.size), length: blob.size };
  }
  await transport.request(
    {
      method: 'PUT',
      url: withDigest(location, blob.digest),
      scopes: pushScopes(job.repository),
      headers: { 'content-type': 'application/octet-stream' },
      body,
    },
    (response) => completeUpload(response, blob.digest),
  );
}

async function* takeAll(source: VerifiedBlobSource, size: number): AsyncGenerator<Buffer> {
  yield* source.take(size);
  await source.finish();
}

async function putChunked(context: UploadContext, job: UploadJob, start: URL, source: VerifiedBlobSource) {
  const { transport } = context;
  const { blob } = job;
  let location = start;
  for (let offset = 0; offset < blob.size; offset += context.chunkSizeBytes) {
    const length = Math.min(context.chunkSizeBytes, blob.size - offset);
    const last = offset + length === blob.size;
    const stream = last ? takeAll(source, length) : source.take(length);
    location = await transport.request(
      {
        method: 'PATCH',
        url: location,
        scopes: pushScopes(job.repository),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + length - 1}` },
        body: { stream, length },
      },
      async (response) => {
        if (response.status !== 202) throw await response.fail('REGISTRY_PROTOCOL', '202');
        await response.discard();
        checkRange(response, offset + length);
        return locationOf(response);
      },
    );
  }
  await transport.request(
    {
      method: 'PUT',
      url: withDigest(location, blob.digest),
      scopes: pushScopes(job.repository),
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(0),
    },
    (response) => completeUpload(response, blob.digest),
  );
}

/** A `Range: 0-<end>` answer must cover exactly the bytes sent so far; a gap restarts the upload. */
function checkRange(response: RegistryResponse, received: number): void {
  const range = response.headers.get('range');
  if (range === null) return;
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range.trim());
  if (match !== null && Number(match[1]) === received - 1) return;
  throw new RegistryError(
    'REGISTRY_PROTOCOL',
    `${response.method} ${response.url.host}${response.url.pathname}: registry has range ${range}, expected 0-${received - 1}`,
    { details: { retryable: true, status: response.status } },
  );
}

async function completeUpload(response: RegistryResponse, digest: string): Promise<void> {
  if (response.status !== 201) throw await response.fail('REGISTRY_PROTOCOL', '201');
  await response.discard();
  const confirmed = response.headers.get('docker-content-digest');
  if (confirmed !== null && confirmed !== digest) {
    throw new RegistryError(
      'DIGEST_MISMATCH',
      `${response.method} ${response.url.host}${response.url.pathname}: registry stored ${confirmed}, expected ${digest}`,
      { details: { expected: digest, actual: confirmed } },
    );
  }
}
