import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isSha256Digest, sha256Digest } from '@secure-build/common';
import { blobPath, verifyBlob } from './blob-store';
import { ANNOTATION_REF_NAME, IMAGE_LAYOUT_VERSION, MEDIA_TYPE_IMAGE_MANIFEST } from './media-types';
import { OciError } from './oci-error';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, LayerDescriptor } from './types';

// Registries must accept manifests up to 4 MB; refuse to load anything larger as JSON.
const MAX_JSON_BLOB = 4 * 1024 * 1024;

/** Options of {@link readImageLayout}. */
export interface ReadImageLayoutOptions {
  /** Pick the manifest tagged with this ref name; required when `index.json` lists several. */
  refName?: string;
  /** Hash every layer blob too (streaming); default true. Manifest and config are always verified. */
  verifyLayers?: boolean;
}

/** A parsed and verified image layout: index → manifest → config, plus layer descriptors. */
export interface ImageLayout {
  layoutDir: string;
  index: ImageIndex;
  /** The index entry that was followed. */
  manifestDescriptor: Descriptor;
  manifestDigest: string;
  manifest: ImageManifest;
  configDigest: string;
  config: ImageConfig;
  /** Manifest layers paired with their `rootfs.diff_ids`, base first. */
  layers: LayerDescriptor[];
}

/**
 * Reads an OCI image layout and verifies each blob it follows against its descriptor (size first,
 * then SHA-256). Throws LAYOUT_INVALID for malformed or inconsistent metadata, BLOB_MISSING and
 * DIGEST_MISMATCH (naming the blob path) for bad content.
 */
export async function readImageLayout(layoutDir: string, options: ReadImageLayoutOptions = {}): Promise<ImageLayout> {
  const layoutFile = await readJsonFile(join(layoutDir, 'oci-layout'));
  if (!isObject(layoutFile) || layoutFile.imageLayoutVersion !== IMAGE_LAYOUT_VERSION) {
    throw invalid(join(layoutDir, 'oci-layout'), `imageLayoutVersion is not ${IMAGE_LAYOUT_VERSION}`);
  }
  const indexPath = join(layoutDir, 'index.json');
  const index = await readJsonFile(indexPath);
  if (!isObject(index) || index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
    throw invalid(indexPath, 'not an image index with schemaVersion 2');
  }
  const descriptors = index.manifests.map((item, i) => parseDescriptor(item, `${indexPath} manifests[${i}]`));
  const manifestDescriptor = selectManifest(descriptors, indexPath, options.refName);
  if (manifestDescriptor.mediaType !== MEDIA_TYPE_IMAGE_MANIFEST) {
    throw new OciError('UNSUPPORTED_MEDIA_TYPE', `${indexPath}: manifest media type ${manifestDescriptor.mediaType}`, {
      details: { mediaType: manifestDescriptor.mediaType },
    });
  }

  const manifestPath = blobPath(layoutDir, manifestDescriptor.digest);
  const manifest = await readJsonBlob(layoutDir, manifestDescriptor);
  if (!isObject(manifest) || manifest.schemaVersion !== 2 || !Array.isArray(manifest.layers)) {
    throw invalid(manifestPath, 'not an image manifest with schemaVersion 2');
  }
  if (manifest.mediaType !== undefined && manifest.mediaType !== MEDIA_TYPE_IMAGE_MANIFEST) {
    throw invalid(manifestPath, `mediaType ${String(manifest.mediaType)} disagrees with the index`);
  }
  const configDescriptor = parseDescriptor(manifest.config, `${manifestPath} config`);
  const layerDescriptors = manifest.layers.map((item, i) => parseDescriptor(item, `${manifestPath} layers[${i}]`));

  const configPath = blobPath(layoutDir, configDescriptor.digest);
  const config = await readJsonBlob(layoutDir, configDescriptor);
  const diffIds = isObject(config) && isObject(config.rootfs) ? config.rootfs.diff_ids : undefined;
  if (
    !isObject(config) ||
    !Array.isArray(diffIds) ||
    !diffIds.every((d) => typeof d === 'string' && isSha256Digest(d))
  ) {
    throw invalid(configPath, 'config has no valid rootfs.diff_ids');
  }
  if (diffIds.length !== layerDescriptors.length) {
    throw invalid(configPath, `${diffIds.length} diff_ids for ${layerDescriptors.length} manifest layers`);
  }
  if (options.verifyLayers ?? true) {
    for (const layer of layerDescriptors) await verifyBlob(layoutDir, layer);
  }
  return {
    layoutDir,
    index: index as unknown as ImageIndex,
    manifestDescriptor,
    manifestDigest: manifestDescriptor.digest,
    manifest: manifest as unknown as ImageManifest,
    configDigest: configDescriptor.digest,
    config: config as unknown as ImageConfig,
    layers: layerDescriptors.map(({ mediaType, digest, size }, i) => ({
      mediaType,
      digest,
      size,
      diffId: diffIds[i] as string,
    })),
  };
}

function selectManifest(descriptors: Descriptor[], indexPath: string, refName: string | undefined): Descriptor {
  if (refName !== undefined) {
    const match = descriptors.find((d) => d.annotations?.[ANNOTATION_REF_NAME] === refName);
    if (match === undefined) throw invalid(indexPath, `no manifest tagged ${JSON.stringify(refName)}`);
    return match;
  }
  if (descriptors.length !== 1) {
    throw invalid(indexPath, `lists ${descriptors.length} manifests; pass refName to choose one`);
  }
  return descriptors[0];
}

/** Reads a small JSON blob after checking its size and digest against the descriptor. */
async function readJsonBlob(layoutDir: string, descriptor: Descriptor): Promise<unknown> {
  const path = blobPath(layoutDir, descriptor.digest);
  if (descriptor.size > MAX_JSON_BLOB) throw invalid(path, `JSON blob of ${descriptor.size} bytes is too large`);
  const stats = await stat(path).catch((error: unknown) => {
    throw new OciError('BLOB_MISSING', `blob ${descriptor.digest} is missing: ${path}`, {
      cause: error,
      details: { path, digest: descriptor.digest },
    });
  });
  if (stats.size !== descriptor.size) {
    throw new OciError('DIGEST_MISMATCH', `blob ${path} has size ${stats.size}, descriptor says ${descriptor.size}`, {
      details: { path, digest: descriptor.digest, expectedSize: descriptor.size, actualSize: stats.size },
    });
  }
  const bytes = await readFile(path);
  const actual = sha256Digest(bytes);
  if (actual !== descriptor.digest) {
    throw new OciError('DIGEST_MISMATCH', `blob ${path} hashes to ${actual}, descriptor says ${descriptor.digest}`, {
      details: { path, expected: descriptor.digest, actual },
    });
  }
  return parseJson(bytes, path);
}

async function readJsonFile(path: string): Promise<unknown> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw new OciError('LAYOUT_INVALID', `missing or unreadable: ${path}`, { cause: error, details: { path } });
  });
  return parseJson(bytes, path);
}

function parseJson(bytes: Buffer, path: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new OciError('LAYOUT_INVALID', `not valid JSON: ${path}`, { cause: error, details: { path } });
  }
}

/** Validates a descriptor's required fields (digest format, non-negative integer size). */
function parseDescriptor(value: unknown, where: string): Descriptor {
  if (
    !isObject(value) ||
    typeof value.mediaType !== 'string' ||
    typeof value.digest !== 'string' ||
    !isSha256Digest(value.digest) ||
    typeof value.size !== 'number' ||
    !Number.isSafeInteger(value.size) ||
    value.size < 0
  ) {
    throw invalid(where, 'invalid descriptor (mediaType, sha256 digest and size are required)');
  }
  return value as unknown as Descriptor;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(path: string, reason: string): OciError {
  return new OciError('LAYOUT_INVALID', `${path}: ${reason}`, { details: { path } });
}
