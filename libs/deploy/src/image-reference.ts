import { formatImageReference, parseImageReference as parseRegistryReference } from '@secure-build/registry';

import { deployError, quote } from './deploy.error';

/** A registry image pinned by digest, split per the distribution reference grammar. */
export interface ImageReference {
  /** `host[:port]` of the registry, as given. */
  readonly registry: string;
  /** Repository path below the registry: lowercase components separated by '/'. */
  readonly repository: string;
  /** `sha256:<64 lowercase hex>`. */
  readonly digest: string;
  /** `registry/repository@digest`: the only form snippets ever print. */
  readonly reference: string;
}

/**
 * Parses `host[:port]/path@sha256:<64 lowercase hex>` with the registry lib's strict grammar, which
 * leaves no character that could change the YAML a snippet is printed into. Tags are refused: a
 * snippet must name exactly the digest that was verified.
 */
export function parseImageReference(input: unknown): ImageReference {
  if (typeof input !== 'string' || input === '') {
    throw deployError(
      'IMAGE_REFERENCE_INVALID',
      'image',
      'an image reference is required: registry/repository@sha256:<64 hex>',
    );
  }
  try {
    const ref = parseRegistryReference(input, { requireDigest: true, allowTag: false });
    const digest = ref.digest as string;
    return { registry: ref.registry, repository: ref.repository, digest, reference: formatImageReference(ref) };
  } catch (error) {
    throw deployError(
      'IMAGE_REFERENCE_INVALID',
      'image',
      `image reference ${quote(input)}: ${(error as Error).message}`,
    );
  }
}
