/** OCI image layout version written to `oci-layout`. */
export const IMAGE_LAYOUT_VERSION = '1.0.0';
/** Media type of an OCI image index (`index.json`). */
export const MEDIA_TYPE_IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json';
/** Media type of an OCI image manifest. */
export const MEDIA_TYPE_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Media type of an OCI image config. */
export const MEDIA_TYPE_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** Media type of an uncompressed layer tar. */
export const MEDIA_TYPE_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
/** Media type of a gzip-compressed layer tar (what this lib writes). */
export const MEDIA_TYPE_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Annotation holding the tag of a manifest inside an image layout. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
