import { copyFile, link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { blobPath, ImageConfig, LayerDescriptor } from '@secure-build/oci';
import { formatImageReference, parseImageReference, pullImage } from '@secure-build/registry';

import type { RegistryAccess } from '../publish/registry-access';
import { BuildError } from './build-error';

/** A base image pulled by digest and verified, ready to be stacked under the build's layer. */
export interface ResolvedBaseImage {
  /** `registry/repo@sha256:…` exactly as the recipe pinned it. */
  reference: string;
  /** The pinned digest (an index or a manifest). */
  pinnedDigest: string;
  /** The image manifest used (the platform's one when the pin names an index). */
  manifestDigest: string;
  config: ImageConfig;
  layers: LayerDescriptor[];
  /** Layout directory whose blobs/sha256 holds the config and every layer. */
  layoutDir: string;
}

/**
 * Pulls `registry/repo@sha256:<hex>` into `layoutDir`, checking every digest on the way. Tags are
 * refused: a tag can move, and the provenance must name exactly what the image was built on.
 */
export async function resolveBaseImage(
  base: string,
  registries: RegistryAccess | undefined,
  layoutDir: string,
): Promise<ResolvedBaseImage> {
  let ref;
  try {
    ref = parseImageReference(base, { requireDigest: true, allowTag: false });
  } catch (error) {
    throw new BuildError('BASE_IMAGE_INVALID', `image.base '${base}': ${(error as Error).message}`, { cause: error });
  }
  if (!registries) {
    throw new BuildError(
      'BASE_IMAGE_UNSUPPORTED',
      `image.base '${base}': this builder has no registry access configured; use 'base: scratch' or configure registries`,
    );
  }
  const pinnedDigest = ref.digest as string;
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const pulled = await pullImage(registries.client(ref.registry), ref.repository, pinnedDigest, layoutDir);
  return {
    reference: formatImageReference(ref),
    pinnedDigest,
    manifestDigest: pulled.manifestDigest,
    config: pulled.config,
    layers: pulled.layers,
    layoutDir,
  };
}

/** Makes the base image's blobs present in another layout (hard links; copies across file systems). */
export async function shareBaseBlobs(base: ResolvedBaseImage, targetLayoutDir: string): Promise<void> {
  await mkdir(join(targetLayoutDir, 'blobs', 'sha256'), { recursive: true });
  for (const layer of base.layers) {
    const from = blobPath(base.layoutDir, layer.digest);
    const to = blobPath(targetLayoutDir, layer.digest);
    await link(from, to).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return;
      if (error.code === 'EXDEV' || error.code === 'EPERM') return copyFile(from, to);
      throw error;
    });
  }
}
