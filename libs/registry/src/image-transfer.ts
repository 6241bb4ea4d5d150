import { createReadStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { sha256Digest } from '@secure-build/common';
import {
  blobPath,
  writeFileAtomic,
  ociArchitecture,
  readImageLayout,
  verifyBlob,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type LayerDescriptor,
} from '@secure-build/oci';

import type { FetchedManifest, RegistryClient } from './client';
import { parseIndex, parseJsonObject, parseManifest } from './manifest-parse';
import {
  CONFIG_TYPES,
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  MEDIA_TYPES_DOCKER_SCHEMA1,
  ociLayerMediaType,
} from './media-types';
import { assertDigest, assertRepository, assertTag } from './reference';
import { RegistryError } from './registry-error';

/** What {@link pushImageLayout} pushed. */
export interface PushedImage {
  repository: string;
  manifestDigest: string;
  manifestSize: number;
  tag?: string;
  /** Every layer, then the config, with how it got there. */
  blobs: { digest: string; outcome: 'exists' | 'mounted' | 'uploaded' }[];
}

/** Options of {@link pushImageLayout}. */
export interface PushImageLayoutOptions {
  /** Tag to set after the push by digest (a second PUT: docker-registry 2.8 has no tag-on-push). */
  tag?: string;
  /** Which manifest of the layout's `index.json` to push (needed when it lists several). */
  refName?: string;
  /** Repository on the same registry to mount existing blobs from. */
  mountFrom?: string;
}

/** What {@link pullImage} fetched. */
export interface PulledImage {
  /** Digest of the image manifest (the platform's one when `digest` named an index). */
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  configDigest: string;
  /** Layers base first, with their DiffIDs and OCI media types (Docker types mapped). */
  layers: LayerDescriptor[];
}

/** Options of {@link pullImage}. */
export interface PullImageOptions {
  /** Platform to pick from an index; default linux + the host architecture. When given, a single
   * manifest's config must match it too. */
  platform?: { os: string; architecture: string };
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Pushes an OCI image layout: layers (streamed from `blobs/sha256`) and config, then the exact
 * manifest bytes by digest, then by tag when asked. Layout problems surface as OciError.
 */
export async function pushImageLayout(
  client: RegistryClient,
  repository: string,
  layoutDir: string,
  options: PushImageLayoutOptions = {},
): Promise<PushedImage> {
  assertRepository(repository);
  if (options.tag !== undefined) assertTag(options.tag);
  if (options.mountFrom !== undefined) assertRepository(options.mountFrom);
  // Layer contents are hashed while they upload, so the reader need not hash them first.
  const layout = await readImageLayout(layoutDir, { refName: options.refName, verifyLayers: false });
  const blobs: PushedImage['blobs'] = [];
  for (const blob of [...layout.layers, layout.manifest.config]) {
    const path = blobPath(layoutDir, blob.digest);
    const outcome = await client.pushBlob(repository, blob, () => createReadStream(path), {
      mountFrom: options.mountFrom,
    });
    blobs.push({ digest: blob.digest, outcome });
  }
  const bytes = await readFile(blobPath(layoutDir, layout.manifestDigest));
  if (sha256Digest(bytes) !== layout.manifestDigest) {
    throw new RegistryError('DIGEST_MISMATCH', `manifest blob of ${layoutDir} changed while pushing`);
  }
  const { mediaType } = layout.manifestDescriptor;
  await client.pushManifest(repository, layout.manifestDigest, bytes, mediaType);
  if (options.tag !== undefined) await client.pushManifest(repository, options.tag, bytes, mediaType);
  return {
    repository,
    manifestDigest: layout.manifestDigest,
    manifestSize: bytes.length,
    ...(options.tag === undefined ? {} : { tag: options.tag }),
    blobs,
  };
}

/**
 * Pulls an image by digest into `layoutDir/blobs/sha256` (config and layers, verified and
 * streamed; blobs already present and intact are kept). An index or Docker manifest list resolves
 * to the platform's manifest. Only OCI and Docker schema 2 images with tar or tar+gzip layers are
 * accepted. No `index.json` is written.
 */
export async function pullImage(
  client: RegistryClient,
  repository: string,
  digest: string,
  layoutDir: string,
  options: PullImageOptions = {},
): Promise<PulledImage> {
  assertRepository(repository);
  assertDigest(digest);
  const platform = options.platform ?? { os: 'linux', architecture: ociArchitecture() };
  let fetched = await getRequired(client, repository, digest);
  let fromIndex = false;
  if (INDEX_TYPES.includes(fetched.mediaType)) {
    const entry = selectPlatform(fetched, repository, platform);
    fetched = await getRequired(client, repository, entry.digest);
    if (fetched.bytes.length !== entry.size) {
      throw new RegistryError(
        'SIZE_MISMATCH',
        `${repository}@${entry.digest} has ${fetched.bytes.length} bytes, index says ${entry.size}`,
      );
    }
    fromIndex = true;
  }
  const where = `${client.registry}/${repository}@${fetched.digest}`;
  if ((MEDIA_TYPES_DOCKER_SCHEMA1 as readonly string[]).includes(fetched.mediaType)) {
    throw new RegistryError('MANIFEST_INVALID', `${where} is a Docker schema 1 manifest, which is not supported`);
  }
  if (!IMAGE_MANIFEST_TYPES.includes(fetched.mediaType)) {
    throw new RegistryError('MANIFEST_INVALID', `${where} has media type ${fetched.mediaType}, not an image manifest`);
  }
  const manifest = parseManifest(fetched.bytes, where, 'MANIFEST_INVALID');
  if (!CONFIG_TYPES.includes(manifest.config.mediaType)) {
    throw new RegistryError(
      'MANIFEST_INVALID',
      `${where} config has media type ${manifest.config.mediaType}, not an image config`,
    );
  }
  const layerTypes = manifest.layers.map((layer, i) => supportedLayerType(layer, i, where));

  const configBytes = await client.fetchBlob(repository, manifest.config, MAX_CONFIG_BYTES);
  const config = parseConfig(configBytes, `${where} config ${manifest.config.digest}`, manifest.layers.length);
  if (!fromIndex && options.platform !== undefined) {
    if (config.os !== platform.os || config.architecture !== platform.architecture) {
      throw new RegistryError(
        'PLATFORM_NOT_FOUND',
        `${where} is ${config.os}/${config.architecture}, not ${platform.os}/${platform.architecture}`,
      );
    }
  }

  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  if (!(await isIntact(layoutDir, manifest.config))) {
    await writeFileAtomic(blobPath(layoutDir, manifest.config.digest), join(layoutDir, 'blobs', 'sha256'), configBytes);
  }
  for (const layer of manifest.layers) {
    if (await isIntact(layoutDir, layer)) continue;
    await client.fetchBlobToFile(repository, layer, blobPath(layoutDir, layer.digest));
  }
  return {
    manifestDigest: fetched.digest,
    manifest: manifest as unknown as ImageManifest,
    config,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((layer, i) => ({
      digest: layer.digest,
      size: layer.size,
      mediaType: layerTypes[i],
      diffId: config.rootfs.diff_ids[i],
    })),
  };
}

async function getRequired(client: RegistryClient, repository: string, digest: string): Promise<FetchedManifest> {
  const fetched = await client.getManifest(repository, digest);
  if (fetched === undefined) {
    throw new RegistryError('MANIFEST_UNKNOWN', `${client.registry}/${repository}@${digest} does not exist`, {
      details: { registry: client.registry, repository, digest },
    });
  }
  return fetched;
}

function selectPlatform(
  fetched: FetchedManifest,
  repository: string,
  platform: { os: string; architecture: string },
): Descriptor {
  const index = parseIndex(fetched.bytes, `${repository}@${fetched.digest}`, 'MANIFEST_INVALID');
  const entry = index.manifests.find(
    (d) =>
      d.platform?.os === platform.os &&
      d.platform?.architecture === platform.architecture &&
      IMAGE_MANIFEST_TYPES.includes(d.mediaType),
  );
  if (entry === undefined) {
    const available = index.manifests
      .filter((d) => d.platform !== undefined)
      .map((d) => `${d.platform?.os}/${d.platform?.architecture}`);
    throw new RegistryError(
      'PLATFORM_NOT_FOUND',
      `${repository}@${fetched.digest} has no ${platform.os}/${platform.architecture} image (available: ${
        available.join(', ') || 'none'
      })`,
      { details: { wanted: `${platform.os}/${platform.architecture}`, available } },
    );
  }
  return entry;
}

function supportedLayerType(layer: Descriptor, index: number, where: string): string {
  const mapped = ociLayerMediaType(layer.mediaType);
  if (mapped !== undefined) return mapped;
  const type = layer.mediaType;
  const reason = type.includes('zstd')
    ? 'zstd-compressed layers are not supported'
    : type.includes('nondistributable') || type.includes('foreign')
      ? 'non-distributable (foreign) layers are not supported'
      : 'only tar and tar+gzip layers are supported';
  throw new RegistryError('MANIFEST_INVALID', `${where} layers[${index}] has media type ${type}: ${reason}`);
}

function parseConfig(bytes: Buffer, what: string, layerCount: number): ImageConfig {
  const config = parseJsonObject(bytes, what, 'MANIFEST_INVALID');
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') {
    throw new RegistryError('MANIFEST_INVALID', `${what} lacks os or architecture`);
  }
  const rootfs = config.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  const diffIds = rootfs?.diff_ids;
  if (
    rootfs?.type !== 'layers' ||
    !Array.isArray(diffIds) ||
    !diffIds.every((d) => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d))
  ) {
    throw new RegistryError('MANIFEST_INVALID', `${what} has no valid rootfs (type layers, sha256 diff_ids)`);
  }
  if (diffIds.length !== layerCount) {
    throw new RegistryError('MANIFEST_INVALID', `${what} lists ${diffIds.length} diff_ids for ${layerCount} layers`);
  }
  return config as unknown as ImageConfig;
}

async function isIntact(layoutDir: string, descriptor: Descriptor): Promise<boolean> {
  try {
    await verifyBlob(layoutDir, descriptor);
    return true;
  } catch {
    return false;
  }
}
