import { secureBuildVersion, sha256Digest } from '@secure-build/common';
import type { Descriptor } from '@secure-build/oci';

import { downloadBlob, downloadBlobToFile } from './blob-download';
import type { BlobContent } from './blob-source';
import { cancelUpload, locationOf, pushScopes, uploadBlob } from './blob-upload';
import { describeRequest } from './http-errors';
import { listReferrers } from './list-referrers';
import { bareMediaType, DEFAULT_MANIFEST_ACCEPT } from './media-types';
import { embeddedMediaType } from './manifest-parse';
import { assertDigest, assertRegistryHost, assertRepository, assertTag, isDigest } from './reference';
import { RegistryError } from './registry-error';
import { Transport, type RegistryResponse } from './transport';

/** Username and password (or identity token) for Basic auth and token requests. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Settings of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** `host[:port]`, no scheme. */
  registry: string;
  /** http:// instead of https:// (tests, loopback registries). */
  plainHttp?: boolean;
  credentials?: RegistryCredentials;
  /** Injectable for unit tests; default the global fetch. */
  fetch?: typeof fetch;
  /** Retries of transient failures (network, 5xx, 429); default 4. */
  retries?: number;
  /** First backoff in ms, doubled per retry with jitter; default 200. Retry-After wins (capped at 30 s). */
  retryBaseDelayMs?: number;
  /** Blobs larger than this are uploaded in PATCH chunks of this size; default 16 MiB. */
  chunkSizeBytes?: number;
  /** A request fails after this long without progress (headers or body bytes); default 60 s. */
  timeoutMs?: number;
  userAgent?: string;
  /** Progress lines; never contain secrets. */
  onLog?: (line: string) => void;
}

/** Registries SHOULD accept manifests up to 4 MiB; nothing larger is read or pushed. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Default limit of {@link RegistryClient.fetchBlob}. */
export const DEFAULT_MAX_BLOB_BYTES = 4 * 1024 * 1024;
const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** A manifest as fetched: exact bytes, media type and (verified) digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/**
 * OCI distribution client on Node's fetch: blob existence, mount and upload (monolithic or chunked,
 * restarted on transient failures), manifest push and fetch with digest verification, verified blob
 * downloads and the referrers API with its tag-schema fallback.
 */
export class RegistryClient {
  /** `host[:port]` this client talks to. */
  readonly registry: string;
  private readonly transport: Transport;
  private readonly retries: number;
  private readonly chunkSizeBytes: number;

  constructor(options: RegistryClientOptions) {
    this.registry = assertRegistryHost(options.registry);
    this.retries = nonNegativeInteger('retries', options.retries ?? 4);
    this.chunkSizeBytes = nonNegativeInteger('chunkSizeBytes', options.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE);
    if (this.chunkSizeBytes === 0) throw new RangeError('chunkSizeBytes must be positive');
    const timeoutMs = nonNegativeInteger('timeoutMs', options.timeoutMs ?? 60_000);
    if (timeoutMs === 0) throw new RangeError('timeoutMs must be positive');
    if (options.credentials !== undefined) {
      const { username, password } = options.credentials;
      if (typeof username !== 'string' || typeof password !== 'string' || username.includes(':')) {
        throw new RangeError('credentials need a string username without ":" and a string password');
      }
    }
    this.transport = new Transport({
      registry: this.registry,
      plainHttp: options.plainHttp ?? false,
      credentials: options.credentials,
      fetch: options.fetch ?? fetch,
      retries: this.retries,
      retryBaseDelayMs: nonNegativeInteger('retryBaseDelayMs', options.retryBaseDelayMs ?? 200),
      timeoutMs,
      userAgent: options.userAgent ?? `secure-build/${secureBuildVersion()}`,
      log: options.onLog ?? (() => undefined),
    });
  }

  /** GET /v2/ (authenticating if challenged); resolves when the registry answers 200. */
  async ping(): Promise<void> {
    await this.transport.request({ method: 'GET', url: '/v2/', scopes: [] }, async (response) => {
      if (response.status !== 200) throw await response.fail('REGISTRY_PROTOCOL', '200');
      await response.discard();
    });
  }

  /** HEAD of a blob: its size when present, undefined on 404. */
  async blobExists(repository: string, digest: string): Promise<{ size: number } | undefined> {
    assertRepository(repository);
    assertDigest(digest);
    return this.transport.request(
      { method: 'HEAD', url: `/v2/${repository}/blobs/${digest}`, scopes: [`repository:${repository}:pull`] },
      async (response) => {
        await response.discard();
        if (response.status === 404) return undefined;
        if (response.status !== 200) throw await response.fail('REGISTRY_PROTOCOL', '200 or 404');
        const confirmed = response.headers.get('docker-content-digest');
        if (confirmed !== null && confirmed !== digest) {
          throw mismatch(response, `registry answered for ${confirmed}, asked for ${digest}`);
        }
        const length = response.headers.get('content-length');
        if (length === null || !/^\d+$/.test(length)) {
          throw new RegistryError('REGISTRY_PROTOCOL', `${where(response)}: blob HEAD without a Content-Length`);
        }
        return { size: Number(length) };
      },
    );
  }

  /**
   * Cross-repository mount: true when the registry mounted the blob (201); false when it opened an
   * upload instead (202), which is then cancelled.
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    const result = await this.tryMount(repository, digest, fromRepository);
    if (result.mounted) return true;
    await cancelUpload(this.transport, repository, result.location);
    return false;
  }

  /**
   * Pushes a blob unless it exists: HEAD, then a mount from `mountFrom`, else an upload of `open()`
   * (called again for every restart). The content is verified against size and digest as it streams.
   */
  async pushBlob(
    repository: string,
    blob: { digest: string; size: number },
    open: () => BlobContent,
    options: { mountFrom?: string } = {},
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    assertRepository(repository);
    assertDigest(blob.digest);
    assertSize(blob.size);
    const existing = await this.blobExists(repository, blob.digest);
    if (existing !== undefined) {
      if (existing.size !== blob.size) {
        throw new RegistryError(
          'SIZE_MISMATCH',
          `${this.registry}/${repository}: blob ${blob.digest} exists with size ${existing.size}, expected ${blob.size}`,
          { details: { digest: blob.digest, expectedSize: blob.size, actualSize: existing.size } },
        );
      }
      return 'exists';
    }
    let location: URL | undefined;
    if (options.mountFrom !== undefined && options.mountFrom !== repository) {
      const result = await this.tryMount(repository, blob.digest, options.mountFrom);
      if (result.mounted) return 'mounted';
      location = result.location;
    }
    await uploadBlob(
      { transport: this.transport, retries: this.retries, chunkSizeBytes: this.chunkSizeBytes },
      { repository, blob, open, location },
    );
    this.transport.log(`uploaded ${blob.digest} (${blob.size} bytes) to ${this.registry}/${repository}`);
    return 'uploaded';
  }

  /**
   * PUT a manifest by tag or digest with `Content-Type: mediaType`. The registry's
   * Docker-Content-Digest, when present, must equal sha256(bytes).
   */
  async pushManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subject?: string }> {
    assertRepository(repository);
    assertReference(reference);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new RegistryError(
        'DIGEST_MISMATCH',
        `manifest bytes hash to ${digest}, not to the reference ${reference}`,
        {
          details: { expected: reference, actual: digest },
        },
      );
    }
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError('MANIFEST_INVALID', `manifest of ${bytes.length} bytes exceeds ${MAX_MANIFEST_BYTES}`);
    }
    if (bareMediaType(mediaType) === undefined)
      throw new RegistryError('MANIFEST_INVALID', 'manifest media type is empty');
    return this.transport.request(
      {
        method: 'PUT',
        url: `/v2/${repository}/manifests/${reference}`,
        scopes: pushScopes(repository),
        headers: { 'content-type': mediaType },
        body: bytes,
      },
      async (response) => {
        if (response.status !== 201 && response.status !== 200) {
          throw await response.fail(response.status === 404 ? 'MANIFEST_INVALID' : 'REGISTRY_PROTOCOL', '201');
        }
        await response.discard();
        const confirmed = response.headers.get('docker-content-digest');
        if (confirmed !== null && confirmed !== digest) {
          throw mismatch(response, `registry stored ${confirmed}, the manifest bytes hash to ${digest}`);
        }
        const subject = response.headers.get('oci-subject');
        this.transport.log(`pushed manifest ${digest} to ${this.registry}/${repository}:${reference}`);
        return subject === null ? { digest } : { digest, subject };
      },
    );
  }

  /**
   * GET a manifest by tag or digest: undefined on 404; the digest is sha256 of the exact bytes and
   * must match a digest reference (and any Docker-Content-Digest); more than 4 MiB is refused.
   */
  async getManifest(
    repository: string,
    reference: string,
    accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT,
  ): Promise<FetchedManifest | undefined> {
    assertRepository(repository);
    assertReference(reference);
    return this.transport.request(
      {
        method: 'GET',
        url: `/v2/${repository}/manifests/${reference}`,
        scopes: [`repository:${repository}:pull`],
        headers: { accept: accept.join(', '), 'accept-encoding': 'identity' },
      },
      async (response) => {
        if (response.status === 404) {
          await response.discard();
          return undefined;
        }
        if (response.status !== 200) throw await response.fail('REGISTRY_PROTOCOL', '200 or 404');
        const tooLarge = () =>
          new RegistryError('MANIFEST_INVALID', `${where(response)}: manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
        const length = response.headers.get('content-length');
        if (length !== null && Number(length) > MAX_MANIFEST_BYTES) {
          await response.discard();
          throw tooLarge();
        }
        const bytes = await response.bytes(MAX_MANIFEST_BYTES, tooLarge);
        const digest = sha256Digest(bytes);
        if (isDigest(reference) && digest !== reference) {
          throw mismatch(response, `manifest content hashes to ${digest}, expected ${reference}`);
        }
        const confirmed = response.headers.get('docker-content-digest');
        if (confirmed !== null && confirmed.startsWith('sha256:') && confirmed !== digest) {
          throw mismatch(response, `Docker-Content-Digest ${confirmed} differs from the content's ${digest}`);
        }
        return { bytes, digest, mediaType: manifestMediaType(response, bytes) };
      },
    );
  }

  /** Reads a small blob (config, bundle) into memory; size (≤ maxBytes) and digest verified. */
  async fetchBlob(
    repository: string,
    blob: { digest: string; size: number },
    maxBytes: number = DEFAULT_MAX_BLOB_BYTES,
  ): Promise<Buffer> {
    assertRepository(repository);
    assertDigest(blob.digest);
    assertSize(blob.size);
    if (blob.size > maxBytes) {
      throw new RegistryError(
        'SIZE_MISMATCH',
        `blob ${blob.digest} of ${blob.size} bytes exceeds the limit of ${maxBytes}`,
        {
          details: { digest: blob.digest, size: blob.size, maxBytes },
        },
      );
    }
    return downloadBlob(this.transport, { repository, blob });
  }

  /** Streams a blob to `path` through a temporary sibling; size and digest verified before the rename. */
  async fetchBlobToFile(repository: string, blob: { digest: string; size: number }, path: string): Promise<void> {
    assertRepository(repository);
    assertDigest(blob.digest);
    assertSize(blob.size);
    await downloadBlobToFile(this.transport, { repository, blob }, path);
  }

  /**
   * Manifests that refer to `subjectDigest`: the referrers API when it answers 200, else the
   * `sha256-<hex>` tag-schema index (none when absent); filtered by `artifactType` client-side too.
   */
  async referrers(repository: string, subjectDigest: string, artifactType?: string): Promise<Descriptor[]> {
    assertRepository(repository);
    assertDigest(subjectDigest);
    return listReferrers(this.transport, (tag, accept) => this.getManifest(repository, tag, accept), {
      repository,
      subjectDigest,
      artifactType,
    });
  }

  /** Writes a progress line to `onLog`. */
  log(line: string): void {
    this.transport.log(line);
  }

  private async tryMount(
    repository: string,
    digest: string,
    fromRepository: string,
  ): Promise<{ mounted: true } | { mounted: false; location: URL }> {
    assertRepository(repository);
    assertRepository(fromRepository);
    assertDigest(digest);
    const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`;
    return this.transport.request(
      {
        method: 'POST',
        url: `/v2/${repository}/blobs/uploads/?${query}`,
        scopes: [...pushScopes(repository), `repository:${fromRepository}:pull`],
        body: Buffer.alloc(0),
      },
      async (response) => {
        if (response.status === 201) {
          await response.discard();
          const confirmed = response.headers.get('docker-content-digest');
          if (confirmed !== null && confirmed !== digest) {
            throw mismatch(response, `registry mounted ${confirmed}, asked for ${digest}`);
          }
          this.transport.log(`mounted ${digest} into ${this.registry}/${repository} from ${fromRepository}`);
          return { mounted: true as const };
        }
        if (response.status === 202) {
          await response.discard();
          return { mounted: false as const, location: locationOf(response) };
        }
        throw await response.fail('REGISTRY_PROTOCOL', '201 or 202');
      },
    );
  }
}

/** The manifest's media type: Content-Type unless generic; it must agree with an embedded mediaType. */
function manifestMediaType(response: RegistryResponse, bytes: Buffer): string {
  const header = bareMediaType(response.headers.get('content-type'));
  const embedded = embeddedMediaType(bytes);
  const generic = header === undefined || header === 'application/json' || header === 'text/plain';
  if (!generic && embedded !== undefined && embedded !== header) {
    throw new RegistryError(
      'MANIFEST_INVALID',
      `${where(response)}: Content-Type ${header} disagrees with the manifest's mediaType ${embedded}`,
    );
  }
  const mediaType = generic ? embedded : header;
  if (mediaType === undefined)
    throw new RegistryError('MANIFEST_INVALID', `${where(response)}: manifest has no media type`);
  return mediaType;
}

function assertReference(reference: string): void {
  if (typeof reference === 'string' && reference.includes(':')) assertDigest(reference);
  else assertTag(reference);
}

function assertSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RegistryError('SIZE_MISMATCH', `blob size must be a non-negative integer, got ${String(size)}`);
  }
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}

function where(response: RegistryResponse): string {
  return describeRequest(response.method, response.url);
}

function mismatch(response: RegistryResponse, problem: string): RegistryError {
  return new RegistryError('DIGEST_MISMATCH', `${where(response)}: ${problem}`, {
    details: { registry: response.url.host, path: response.url.pathname },
  });
}
