import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

import { registryErrors, reply, type RecordedRequest, type TestHandler } from './test-server';

/** Behaviour switches of the in-memory registry. */
export interface FakeRegistryOptions {
  /** Answer `/referrers/` with an index and send OCI-Subject on manifest PUTs (default false: 404). */
  referrersApi?: boolean;
  /** Upload Locations: absolute with `?_state=` (like docker-registry) or relative without a query. */
  locationStyle?: 'absolute-with-query' | 'relative';
  /** Origin used for absolute Locations. */
  origin?: string;
}

/** An in-memory distribution registry good enough for the client's unit tests. */
export interface FakeRegistry {
  handle: TestHandler;
  blobs: Map<string, Buffer>;
  /** `repo` → reference (tag or digest) → manifest. */
  manifests: Map<string, Map<string, { bytes: Buffer; mediaType: string }>>;
  /** Blob digests present per repository. */
  repoBlobs: Map<string, Set<string>>;
  putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): string;
  putBlob(repository: string, bytes: Buffer): string;
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Creates the registry; mount its `handle` on a test server. */
export function createFakeRegistry(options: FakeRegistryOptions = {}): FakeRegistry {
  const blobs = new Map<string, Buffer>();
  const repoBlobs = new Map<string, Set<string>>();
  const manifests = new Map<string, Map<string, { bytes: Buffer; mediaType: string }>>();
  const uploads = new Map<string, { repository: string; parts: Buffer[] }>();

  const addBlob = (repository: string, bytes: Buffer): string => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    if (!repoBlobs.has(repository)) repoBlobs.set(repository, new Set());
    repoBlobs.get(repository)?.add(digest);
    return digest;
  };
  const putManifest = (repository: string, reference: string, bytes: Buffer, mediaType: string): string => {
    const digest = sha256(bytes);
    if (!manifests.has(repository)) manifests.set(repository, new Map());
    manifests.get(repository)?.set(reference, { bytes, mediaType });
    manifests.get(repository)?.set(digest, { bytes, mediaType });
    return digest;
  };
  const uploadLocation = (repository: string, id: string, offset: number): string => {
    if (options.locationStyle === 'relative') return `/v2/${repository}/blobs/uploads/${id}`;
    const state = Buffer.from(JSON.stringify({ id, offset })).toString('base64');
    return `${options.origin ?? ''}/v2/${repository}/blobs/uploads/${id}?_state=${encodeURIComponent(state)}`;
  };

  const handle = (req: RecordedRequest, res: ServerResponse): void => {
    const path = req.path;
    if (path === '/v2/') return reply(res, 200, { 'content-type': 'application/json' }, {});
    let match = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(path);
    if (match !== null && req.method === 'POST') {
      const repository = match[1];
      const mount = req.query.get('mount');
      const from = req.query.get('from');
      if (mount !== null && from !== null && repoBlobs.get(from)?.has(mount) === true) {
        if (!repoBlobs.has(repository)) repoBlobs.set(repository, new Set());
        repoBlobs.get(repository)?.add(mount);
        return reply(res, 201, { 'docker-content-digest': mount, location: `/v2/${repository}/blobs/${mount}` });
      }
      const id = randomUUID();
      uploads.set(id, { repository, parts: [] });
      return reply(res, 202, { location: uploadLocation(repository, id, 0), range: '0-0' });
    }
    match = /^\/v2\/(.+)\/blobs\/uploads\/([0-9a-f-]+)$/.exec(path);
    if (match !== null) {
      const [, repository, id] = match;
      const upload = uploads.get(id);
      if (upload === undefined) return reply(res, 404, {}, registryErrors('BLOB_UPLOAD_UNKNOWN', 'unknown upload'));
      if (req.method === 'DELETE') {
        uploads.delete(id);
        return reply(res, 204);
      }
      if (req.method === 'PATCH') {
        upload.parts.push(req.body);
        const size = upload.parts.reduce((n, p) => n + p.length, 0);
        return reply(res, 202, { location: uploadLocation(repository, id, size), range: `0-${size - 1}` });
      }
      if (req.method === 'PUT') {
        upload.parts.push(req.body);
        const bytes = Buffer.concat(upload.parts);
        const digest = req.query.get('digest');
        if (digest !== sha256(bytes)) {
          return reply(
            res,
            400,
            {},
            registryErrors('DIGEST_INVALID', 'provided digest did not match uploaded content'),
          );
        }
        uploads.delete(id);
        addBlob(repository, bytes);
        return reply(res, 201, { 'docker-content-digest': digest, location: `/v2/${repository}/blobs/${digest}` });
      }
    }
    match = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
    if (match !== null) {
      const [, repository, digest] = match;
      const bytes = repoBlobs.get(repository)?.has(digest) === true ? blobs.get(digest) : undefined;
      if (bytes === undefined) return reply(res, 404, {}, registryErrors('BLOB_UNKNOWN', 'blob unknown to registry'));
      return reply(res, 200, { 'docker-content-digest': digest, 'content-type': 'application/octet-stream' }, bytes);
    }
    match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (match !== null) {
      const [, repository, reference] = match;
      if (req.method === 'PUT') {
        const mediaType = String(req.headers['content-type'] ?? '');
        const digest = putManifest(repository, reference, req.body, mediaType);
        const headers: Record<string, string> = { 'docker-content-digest': digest };
        const subject = (JSON.parse(req.body.toString('utf8')) as { subject?: { digest: string } }).subject;
        if (options.referrersApi === true && subject !== undefined) headers['oci-subject'] = subject.digest;
        return reply(res, 201, headers);
      }
      const found = manifests.get(repository)?.get(reference);
      if (found === undefined) return reply(res, 404, {}, registryErrors('MANIFEST_UNKNOWN', 'manifest unknown'));
      return reply(
        res,
        200,
        { 'content-type': found.mediaType, 'docker-content-digest': sha256(found.bytes) },
        found.bytes,
      );
    }
    match = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(path);
    if (match !== null && options.referrersApi === true) {
      const [, repository, subject] = match;
      const entries = [...(manifests.get(repository)?.entries() ?? [])]
        .filter(([reference]) => reference.startsWith('sha256:'))
        .flatMap(([reference, m]) => {
          const parsed = JSON.parse(m.bytes.toString('utf8')) as {
            subject?: { digest: string };
            artifactType?: string;
          };
          if (parsed.subject?.digest !== subject) return [];
          return [
            { mediaType: m.mediaType, digest: reference, size: m.bytes.length, artifactType: parsed.artifactType },
          ];
        });
      return reply(
        res,
        200,
        { 'content-type': 'application/vnd.oci.image.index.v1+json' },
        { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries },
      );
    }
    return reply(res, 404, { 'content-type': 'text/plain' }, '404 page not found');
  };

  return { handle, blobs, manifests, repoBlobs, putManifest, putBlob: addBlob };
}
