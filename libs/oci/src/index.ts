export { blobPath, verifyBlob, writeFileAtomic } from './blob-store';
export { BASE_LAYER_CREATED_BY, buildImageConfig, LAYER_CREATED_BY, ociArchitecture } from './image-config';
export type { BuildImageConfigInput, ImageConfigInput } from './image-config';
export { writeImageLayout } from './image-layout';
export type { CompressorInfo, ImageLayoutResult, WriteImageLayoutOptions } from './image-layout';
export { compareBytewise, normalizeMode, planLayer } from './layer-plan';
export type { LayerSource, PlannedEntry, PlannedEntryType } from './layer-plan';
export { listLayerEntries, scanLayer } from './layer-reader';
export type { LayerEntry, LayerEntryType, LayerScan } from './layer-reader';
export { DEFAULT_COMPRESSION_LEVEL, writeLayer } from './layer-writer';
export type { LayerResult, WriteLayerOptions } from './layer-writer';
export { diffEntries, diffLayouts } from './layout-diff';
export type { DifferenceKind, LayoutDiff, LayoutDifference } from './layout-diff';
export { readImageLayout } from './layout-reader';
export type { ImageLayout, ReadImageLayoutOptions } from './layout-reader';
export {
  ANNOTATION_REF_NAME,
  IMAGE_LAYOUT_VERSION,
  MEDIA_TYPE_IMAGE_CONFIG,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_IMAGE_MANIFEST,
  MEDIA_TYPE_LAYER_TAR,
  MEDIA_TYPE_LAYER_TAR_GZIP,
} from './media-types';
export { OciError } from './oci-error';
export type { OciErrorCode } from './oci-error';
export { epochToRfc3339 } from './source-date-epoch';
export type {
  Descriptor,
  HistoryEntry,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  ImageRuntimeConfig,
  LayerDescriptor,
  Platform,
} from './types';
