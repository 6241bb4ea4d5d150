import { canonicalJson, sha256Digest } from '@secure-build/common';
import { MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_IMAGE_MANIFEST, type Descriptor, type ImageIndex } from '@secure-build/oci';

import type { RegistryClient } from './client';
import { referrersTag } from './list-referrers';
import { parseDescriptor, parseIndex, parseManifest, type ArtifactManifest } from './manifest-parse';
import { assertRepository } from './reference';
import { RegistryError } from './registry-error';

/** Media type of a Sigstore bundle v0.3 (the artifactType of attestations). */
export const MEDIA_TYPE_SIGSTORE_BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Media type of the empty JSON config `{}` of artifact manifests. */
export const MEDIA_TYPE_EMPTY_JSON = 'application/vnd.oci.empty.v1+json';
/** Descriptor of the empty config `{}` (image-spec manifest.md, "Guidance for an Empty Descriptor"). */
export const EMPTY_JSON_DESCRIPTOR: Descriptor = Object.freeze({
  mediaType: MEDIA_TYPE_EMPTY_JSON,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
});
const EMPTY_JSON_BYTES = '{}';

/** Result of {@link attachArtifact}: the artifact manifest and how the registry indexes it. */
export interface AttachedArtifact {
  digest: string;
  size: number;
  via: 'referrers-api' | 'tag-schema';
}

/** Input of {@link attachArtifact}. */
export interface AttachArtifactInput {
  /** Descriptor of the image manifest the artifact refers to. */
  subject: Descriptor;
  artifactType: string;
  blob: Buffer;
  blobMediaType: string;
  /** Manifest annotations, copied into the referrers index entry; nothing is added implicitly. */
  annotations?: Record<string, string>;
}

/** One verified referrer of {@link findArtifacts}. */
export interface FoundArtifact {
  /** The index entry that led to it. */
  descriptor: Descriptor;
  manifest: ArtifactManifest;
  /** The manifest's first layer, size and digest verified. */
  blob: Buffer;
}

/** Options of {@link findArtifacts}. */
export interface FindArtifactsOptions {
  /** Largest blob read (default 4 MiB). */
  maxBlobBytes?: number;
  /** Called for every referrer skipped (wrong subject, type, missing, no layer), with the reason. */
  onSkip?: (descriptor: Descriptor, reason: string) => void;
}

/**
 * Attaches an artifact (e.g. a Sigstore bundle) to an image: pushes the blob and the empty config,
 * PUTs a canonical-JSON artifact manifest by digest, and when the registry does not confirm the
 * subject (no OCI-Subject header) maintains the `sha256-<hex>` tag-schema index itself.
 */
export async function attachArtifact(
  client: RegistryClient,
  repository: string,
  input: AttachArtifactInput,
): Promise<AttachedArtifact> {
  assertRepository(repository);
  parseDescriptor(input.subject, 'attachArtifact subject', 'MANIFEST_INVALID');
  if (input.artifactType === '' || input.blobMediaType === '') {
    throw new RegistryError('MANIFEST_INVALID', 'artifactType and blobMediaType must not be empty');
  }
  const blob = { digest: sha256Digest(input.blob), size: input.blob.length };
  await client.pushBlob(repository, blob, () => input.blob);
  await client.pushBlob(repository, EMPTY_JSON_DESCRIPTOR, () => Buffer.from(EMPTY_JSON_BYTES));
  const annotations =
    input.annotations !== undefined && Object.keys(input.annotations).length > 0 ? { ...input.annotations } : undefined;
  const manifest: ArtifactManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_MANIFEST,
    artifactType: input.artifactType,
    config: { ...EMPTY_JSON_DESCRIPTOR },
    layers: [{ mediaType: input.blobMediaType, ...blob }],
    subject: { mediaType: input.subject.mediaType, digest: input.subject.digest, size: input.subject.size },
    annotations,
  };
  const bytes = Buffer.from(canonicalJson(manifest));
  const digest = sha256Digest(bytes);
  const pushed = await client.pushManifest(repository, digest, bytes, MEDIA_TYPE_IMAGE_MANIFEST);
  if (pushed.subject !== undefined) {
    if (pushed.subject !== input.subject.digest) {
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `${client.registry}/${repository}: OCI-Subject ${pushed.subject} differs from the subject ${input.subject.digest}`,
      );
    }
    return { digest, size: bytes.length, via: 'referrers-api' };
  }
  const entry: Descriptor = {
    mediaType: MEDIA_TYPE_IMAGE_MANIFEST,
    digest,
    size: bytes.length,
    artifactType: input.artifactType,
    ...(annotations === undefined ? {} : { annotations }),
  };
  await addToTagSchemaIndex(client, repository, input.subject.digest, entry);
  return { digest, size: bytes.length, via: 'tag-schema' };
}

/**
 * The fallback index update: GET `sha256-<hex>` (404 → empty index; not an index →
 * REFERRERS_INDEX_INVALID), append `entry` unless its digest is listed, PUT it back. Not atomic:
 * concurrent writers can lose entries (docker-registry 2.8 has no conditional PUT).
 */
export async function addToTagSchemaIndex(
  client: RegistryClient,
  repository: string,
  subjectDigest: string,
  entry: Descriptor,
): Promise<void> {
  const tag = referrersTag(subjectDigest);
  // Default Accept on purpose: with only the index type a registry may answer 404 for a
  // non-index tag, which would then be overwritten.
  const existing = await client.getManifest(repository, tag);
  let index: ImageIndex;
  if (existing === undefined) {
    index = { schemaVersion: 2, mediaType: MEDIA_TYPE_IMAGE_INDEX, manifests: [] };
  } else {
    if (existing.mediaType !== MEDIA_TYPE_IMAGE_INDEX) {
      throw new RegistryError(
        'REFERRERS_INDEX_INVALID',
        `${client.registry}/${repository}:${tag} is ${existing.mediaType}, not an image index; refusing to overwrite it`,
      );
    }
    index = parseIndex(existing.bytes, `${client.registry}/${repository}:${tag}`, 'REFERRERS_INDEX_INVALID');
    if (index.manifests.some((d) => d.digest === entry.digest)) return;
  }
  const updated = { ...index, mediaType: MEDIA_TYPE_IMAGE_INDEX, manifests: [...index.manifests, entry] };
  await client.pushManifest(repository, tag, Buffer.from(canonicalJson(updated)), MEDIA_TYPE_IMAGE_INDEX);
}

/**
 * Referrers of `subjectDigest` with `artifactType`, each fetched and verified: manifest by digest
 * (sha256 checked), its `subject` equal to `subjectDigest`, its type equal to `artifactType`, and
 * its first layer blob (size and digest checked). Referrers failing the subject/type/shape checks
 * are skipped and reported through `onSkip` and the client log; digest failures throw.
 */
export async function findArtifacts(
  client: RegistryClient,
  repository: string,
  subjectDigest: string,
  artifactType: string,
  options: FindArtifactsOptions = {},
): Promise<FoundArtifact[]> {
  const found: FoundArtifact[] = [];
  const skip = (descriptor: Descriptor, reason: string): void => {
    client.log(`skipping referrer ${descriptor.digest} of ${subjectDigest}: ${reason}`);
    options.onSkip?.(descriptor, reason);
  };
  for (const descriptor of await client.referrers(repository, subjectDigest, artifactType)) {
    const fetched = await client.getManifest(repository, descriptor.digest);
    if (fetched === undefined) {
      skip(descriptor, 'manifest not found');
      continue;
    }
    if (fetched.bytes.length !== descriptor.size) {
      skip(descriptor, `manifest has ${fetched.bytes.length} bytes, index says ${descriptor.size}`);
      continue;
    }
    if (fetched.mediaType !== MEDIA_TYPE_IMAGE_MANIFEST) {
      skip(descriptor, `media type ${fetched.mediaType} is not an OCI manifest`);
      continue;
    }
    let manifest: ArtifactManifest;
    try {
      manifest = parseManifest(fetched.bytes, `referrer ${descriptor.digest}`, 'MANIFEST_INVALID');
    } catch (error) {
      skip(descriptor, (error as Error).message);
      continue;
    }
    if (manifest.subject?.digest !== subjectDigest) {
      skip(descriptor, `its subject is ${manifest.subject?.digest ?? 'missing'}, not ${subjectDigest}`);
      continue;
    }
    const type = manifest.artifactType ?? manifest.config.mediaType;
    if (type !== artifactType) {
      skip(descriptor, `artifact type ${type} is not ${artifactType}`);
      continue;
    }
    const layer = manifest.layers[0];
    if (layer === undefined) {
      skip(descriptor, 'manifest has no layers');
      continue;
    }
    const blob = await client.fetchBlob(repository, layer, options.maxBlobBytes);
    found.push({ descriptor, manifest, blob });
  }
  return found;
}
