import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, isSha256Digest } from '@secure-build/common';
import { blobPath, writeBlob, writeFileAtomic } from './blob-store';
import { buildImageConfig, type ImageConfigInput } from './image-config';
import type { LayerSource } from './layer-plan';
import { assertCompressionLevel, DEFAULT_COMPRESSION_LEVEL, type LayerResult, writeLayer } from './layer-writer';
import {
  ANNOTATION_REF_NAME,
  IMAGE_LAYOUT_VERSION,
  MEDIA_TYPE_IMAGE_CONFIG,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_IMAGE_MANIFEST,
} from './media-types';
import { OciError } from './oci-error';
import { assertSourceDateEpoch } from './source-date-epoch';
import type { ImageConfig, ImageIndex, ImageManifest, LayerDescriptor } from './types';

/** Input of {@link writeImageLayout}. */
export interface WriteImageLayoutOptions {
  /** Layout directory; created if needed. Existing blobs stay, `index.json` is replaced. */
  outDir: string;
  /** Sources of the one layer this call writes (on top of any base layers). */
  layers: readonly LayerSource[];
  sourceDateEpoch: number;
  config: ImageConfigInput;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Tag recorded as `org.opencontainers.image.ref.name` in `index.json`. */
  refName?: string;
  /** gzip level 0–9, default 6. */
  compressionLevel?: number;
  /** Layers of a base image whose blobs are already in `outDir`, base first. */
  baseLayers?: readonly LayerDescriptor[];
  /** Config of the base image: runtime settings and history are inherited. */
  baseConfig?: ImageConfig;
}

/** Compressor identity; the gzip bytes (not the DiffIDs) depend on it, so provenance records it. */
export interface CompressorInfo {
  name: 'node-zlib';
  version: string;
  level: number;
}

/** What {@link writeImageLayout} wrote. */
export interface ImageLayoutResult {
  layoutDir: string;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  /** Layers written by this call (base layers are not repeated here). */
  layers: LayerResult[];
  /** All DiffIDs of the image, base first (equal to `rootfs.diff_ids`). */
  diffIds: string[];
  compressor: CompressorInfo;
}

// image-spec annotations.md: the ref.name grammar.
const REF_NAME = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/**
 * Writes a complete OCI image layout: one deterministic layer from `layers` on top of the optional
 * base layers, a canonical-JSON config and manifest, `oci-layout` and an `index.json` naming the
 * manifest (last, so a crash never leaves an index pointing at missing blobs).
 */
export async function writeImageLayout(options: WriteImageLayoutOptions): Promise<ImageLayoutResult> {
  assertSourceDateEpoch(options.sourceDateEpoch);
  const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  assertCompressionLevel(level);
  if (options.refName !== undefined && !REF_NAME.test(options.refName)) {
    throw new OciError('INVALID_INPUT', `invalid image ref name: ${JSON.stringify(options.refName)}`);
  }
  assertStringRecord('annotations', options.annotations);
  assertStringRecord('labels', options.config.labels);
  assertStringRecord('env', options.config.env);
  const baseLayers = options.baseLayers ?? [];
  const { outDir } = options;
  await mkdir(join(outDir, 'blobs', 'sha256'), { recursive: true });
  for (const layer of baseLayers) await assertBaseLayerPresent(outDir, layer);

  await writeFileAtomic(
    join(outDir, 'oci-layout'),
    outDir,
    canonicalJson({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }),
  );
  const layer = await writeLayer({
    entries: options.layers,
    sourceDateEpoch: options.sourceDateEpoch,
    blobsDir: join(outDir, 'blobs'),
    compressionLevel: level,
  });
  const allLayers: LayerDescriptor[] = [...baseLayers, layer];
  const diffIds = allLayers.map((entry) => entry.diffId);

  const config = buildImageConfig({
    config: options.config,
    sourceDateEpoch: options.sourceDateEpoch,
    diffIds,
    baseLayerCount: baseLayers.length,
    baseConfig: options.baseConfig,
  });
  const configDescriptor = await writeBlob(outDir, MEDIA_TYPE_IMAGE_CONFIG, Buffer.from(canonicalJson(config)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_MANIFEST,
    config: configDescriptor,
    layers: allLayers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    annotations: nonEmpty(options.annotations),
  };
  const manifestDescriptor = await writeBlob(outDir, MEDIA_TYPE_IMAGE_MANIFEST, Buffer.from(canonicalJson(manifest)));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_INDEX,
    manifests: [
      {
        ...manifestDescriptor,
        platform: { architecture: config.architecture, os: config.os, variant: config.variant },
        annotations: options.refName === undefined ? undefined : { [ANNOTATION_REF_NAME]: options.refName },
      },
    ],
  };
  await writeFileAtomic(join(outDir, 'index.json'), outDir, canonicalJson(index));

  return {
    layoutDir: outDir,
    manifestDigest: manifestDescriptor.digest,
    manifestSize: manifestDescriptor.size,
    configDigest: configDescriptor.digest,
    layers: [layer],
    diffIds,
    compressor: { name: 'node-zlib', version: process.versions.zlib, level },
  };
}

async function assertBaseLayerPresent(outDir: string, layer: LayerDescriptor): Promise<void> {
  if (!isSha256Digest(layer.diffId)) {
    throw new OciError('INVALID_INPUT', `base layer ${layer.digest} has an invalid diffId: ${layer.diffId}`);
  }
  const path = blobPath(outDir, layer.digest);
  const stats = await stat(path).catch(() => undefined);
  if (stats === undefined || !stats.isFile()) {
    throw new OciError('BLOB_MISSING', `base layer blob is not in the layout: ${path}`, {
      details: { path, digest: layer.digest },
    });
  }
  if (stats.size !== layer.size) {
    throw new OciError('DIGEST_MISMATCH', `base layer blob ${path} has size ${stats.size}, expected ${layer.size}`, {
      details: { path, digest: layer.digest },
    });
  }
}

function assertStringRecord(name: string, record: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(record ?? {})) {
    if (typeof value !== 'string') throw new OciError('INVALID_INPUT', `${name}.${key} must be a string`);
  }
}

function nonEmpty(record: Record<string, string> | undefined): Record<string, string> | undefined {
  return record !== undefined && Object.keys(record).length > 0 ? { ...record } : undefined;
}
