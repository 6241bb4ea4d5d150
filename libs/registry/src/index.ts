// Reference parsing: strict `host[:port]/repo[:tag][@sha256:…]`, explicit registry host.
export {
  assertDigest,
  assertRegistryHost,
  assertRepository,
  assertTag,
  formatImageReference,
  isDigest,
  isTag,
  parseImageReference,
} from './reference';
export type { ImageReference, ParseImageReferenceOptions } from './reference';
// The one error class of this lib, with its stable codes.
export { isRetryableRegistryError, RegistryError } from './registry-error';
export type { RegistryErrorCode } from './registry-error';
// The distribution client: blobs, manifests, referrers.
export { DEFAULT_MAX_BLOB_BYTES, MAX_MANIFEST_BYTES, RegistryClient } from './client';
export type { FetchedManifest, RegistryClientOptions, RegistryCredentials } from './client';
// What `pushBlob`'s `open()` may return.
export type { BlobContent } from './blob-source';
// `WWW-Authenticate` parsing (exposed for diagnostics and tests).
export { parseWwwAuthenticate } from './www-authenticate';
export type { AuthChallenge } from './www-authenticate';
// Whole-image push from an OCI layout and verified pull into one.
export { pullImage, pushImageLayout } from './image-transfer';
export type { PulledImage, PullImageOptions, PushedImage, PushImageLayoutOptions } from './image-transfer';
// Artifacts attached to images (Sigstore bundles) through the referrers API or its tag fallback.
export {
  addToTagSchemaIndex,
  attachArtifact,
  EMPTY_JSON_DESCRIPTOR,
  findArtifacts,
  MEDIA_TYPE_EMPTY_JSON,
  MEDIA_TYPE_SIGSTORE_BUNDLE,
} from './referrers';
export type { AttachArtifactInput, AttachedArtifact, FindArtifactsOptions, FoundArtifact } from './referrers';
// Tag of the referrers tag-schema fallback (`sha256-<hex>`).
export { referrersTag } from './list-referrers';
// Manifest shape of artifacts (image manifest + artifactType + subject).
export type { ArtifactManifest } from './manifest-parse';
// Docker media types the pull path understands, and the default manifest Accept list.
export {
  DEFAULT_MANIFEST_ACCEPT,
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
} from './media-types';
