import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { canonicalJson } from '@secure-build/common';
import { blobPath, IMAGE_LAYOUT_VERSION, MEDIA_TYPE_IMAGE_INDEX } from '@secure-build/oci';
import { parseImageReference, pullImage } from '@secure-build/registry';

import type { RegistryAccess } from '../publish/registry-access';

/**
 * Pulls the first build's image (by its attested digest) into a complete OCI layout, so the two
 * images can be compared file by file. Returns undefined when the provenance names no registry.
 */
export async function pullOriginalLayout(
  registries: RegistryAccess,
  imageName: string,
  manifestDigest: string,
  layoutDir: string,
): Promise<string | undefined> {
  let ref;
  try {
    ref = parseImageReference(imageName);
  } catch {
    return undefined; // a bare name such as 'oci-image': the image was never pushed anywhere
  }
  const client = registries.client(ref.registry);
  const pulled = await pullImage(client, ref.repository, manifestDigest, layoutDir);
  const manifest = await client.getManifest(ref.repository, pulled.manifestDigest);
  if (!manifest) return undefined;
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(blobPath(layoutDir, manifest.digest), manifest.bytes);
  await writeFile(join(layoutDir, 'oci-layout'), canonicalJson({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }));
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_INDEX,
    manifests: [{ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length }],
  };
  await writeFile(join(layoutDir, 'index.json'), canonicalJson(index));
  return layoutDir;
}
