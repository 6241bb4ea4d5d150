import { MEDIA_TYPE_IMAGE_MANIFEST } from '@secure-build/oci';
import {
  attachArtifact,
  formatImageReference,
  ImageReference,
  MEDIA_TYPE_SIGSTORE_BUNDLE,
  parseImageReference,
  pushImageLayout,
} from '@secure-build/registry';

import { BuildError } from '../pipeline/build-error';
import type { RegistryAccess } from './registry-access';

/** Where an image went and how its provenance is attached. */
export interface PublishedImage {
  /** `host/repo@sha256:…`: what deployers pin. */
  reference: string;
  /** `host/repo:tag` when a tag was pushed. */
  tagged?: string;
  manifestDigest: string;
  /** The Sigstore bundle's artifact manifest, referring to the image. */
  attestation: { digest: string; via: 'referrers-api' | 'tag-schema' };
}

/** Parses a push target `host[:port]/repo[:tag]` (a digest is refused: the build decides it). */
export function parsePushTarget(target: string): ImageReference {
  let ref: ImageReference;
  try {
    ref = parseImageReference(target);
  } catch (error) {
    throw new BuildError('PUSH_REFERENCE_INVALID', `push target '${target}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (ref.digest) {
    throw new BuildError(
      'PUSH_REFERENCE_INVALID',
      `push target '${target}' names a digest; give host/repo[:tag], the digest comes from the build`,
    );
  }
  return ref;
}

/**
 * Pushes the image layout, then the Sigstore bundle as an OCI artifact whose subject is the image
 * manifest: the order means a bundle never refers to an image the registry does not have.
 */
export async function publishImage(input: {
  registries: RegistryAccess;
  target: ImageReference;
  layoutDir: string;
  bundleJson: string;
  onLog?: (line: string) => void;
}): Promise<PublishedImage> {
  const { registries, target, layoutDir } = input;
  const client = registries.client(target.registry);
  const pushed = await pushImageLayout(client, target.repository, layoutDir, target.tag ? { tag: target.tag } : {});
  const reference = formatImageReference({
    registry: target.registry,
    repository: target.repository,
    digest: pushed.manifestDigest,
  });
  input.onLog?.(`pushed ${reference}${pushed.tag ? ` (tag ${pushed.tag})` : ''}`);
  const attestation = await attachArtifact(client, target.repository, {
    subject: { mediaType: MEDIA_TYPE_IMAGE_MANIFEST, digest: pushed.manifestDigest, size: pushed.manifestSize },
    artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    blob: Buffer.from(input.bundleJson, 'utf8'),
    blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    // The annotations cosign writes for bundles, so `cosign verify-attestation` tooling finds ours.
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
    },
  });
  input.onLog?.(`attached provenance ${attestation.digest} to ${pushed.manifestDigest} (${attestation.via})`);
  return {
    reference,
    ...(pushed.tag ? { tagged: formatImageReference({ ...target, digest: undefined }) } : {}),
    manifestDigest: pushed.manifestDigest,
    attestation: { digest: attestation.digest, via: attestation.via },
  };
}
