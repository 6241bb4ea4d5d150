import {
  MEDIA_TYPE_IMAGE_CONFIG,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_IMAGE_MANIFEST,
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_LAYER_TAR_GZIP,
} from '@secure-build/oci';

/** Docker image manifest, schema 2. */
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker manifest list (the Docker flavour of an image index). */
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker image config. */
export const MEDIA_TYPE_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Docker gzip layer. */
export const MEDIA_TYPE_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Docker uncompressed layer (rare, accepted by containerd). */
export const MEDIA_TYPE_DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';
/** Docker schema 1 manifests: unsigned and signed; refused. */
export const MEDIA_TYPES_DOCKER_SCHEMA1 = [
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
] as const;

/** Default `Accept` of getManifest: OCI manifest and index, Docker manifest and list. */
export const DEFAULT_MANIFEST_ACCEPT: readonly string[] = [
  MEDIA_TYPE_IMAGE_MANIFEST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
];

/** Manifest media types that describe one image. */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [MEDIA_TYPE_IMAGE_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST];
/** Manifest media types that list per-platform manifests. */
export const INDEX_TYPES: readonly string[] = [MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST];
/** Config media types accepted when pulling. */
export const CONFIG_TYPES: readonly string[] = [MEDIA_TYPE_IMAGE_CONFIG, MEDIA_TYPE_DOCKER_CONFIG];

const LAYER_TYPE_TO_OCI: Record<string, string> = {
  [MEDIA_TYPE_LAYER_TAR]: MEDIA_TYPE_LAYER_TAR,
  [MEDIA_TYPE_LAYER_TAR_GZIP]: MEDIA_TYPE_LAYER_TAR_GZIP,
  [MEDIA_TYPE_DOCKER_LAYER_GZIP]: MEDIA_TYPE_LAYER_TAR_GZIP,
  [MEDIA_TYPE_DOCKER_LAYER_TAR]: MEDIA_TYPE_LAYER_TAR,
};

/** OCI media type of a supported (tar or tar+gzip) layer; undefined for zstd, foreign, nondistributable… */
export function ociLayerMediaType(mediaType: string): string | undefined {
  return LAYER_TYPE_TO_OCI[mediaType];
}

/** The media type without parameters, lowercased (`application/json; charset=utf-8` → `application/json`). */
export function bareMediaType(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const bare = value.split(';')[0].trim().toLowerCase();
  return bare === '' ? undefined : bare;
}
