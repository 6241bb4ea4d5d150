import { MEDIA_TYPE_IMAGE_INDEX, type Descriptor } from '@secure-build/oci';

import { parseIndex } from './manifest-parse';
import { bareMediaType, DEFAULT_MANIFEST_ACCEPT } from './media-types';
import { RegistryError } from './registry-error';
import type { Transport } from './transport';

const MAX_INDEX_BYTES = 4 * 1024 * 1024;

/** Fetches a manifest by tag (the client's getManifest). */
export type ManifestGetter = (
  reference: string,
  accept: readonly string[],
) => Promise<{ bytes: Buffer; mediaType: string } | undefined>;

/** Tag of the referrers tag-schema fallback: `sha256:<hex>` → `sha256-<hex>`. */
export function referrersTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

/**
 * Referrers of a subject: GET /v2/<name>/referrers/<digest> (200 → its index), on 404 the
 * `sha256-<hex>` tag's index (absent → none). The list is filtered by `artifactType` here as well,
 * since a registry may ignore the filter.
 */
export async function listReferrers(
  transport: Transport,
  getManifest: ManifestGetter,
  query: { repository: string; subjectDigest: string; artifactType?: string },
): Promise<Descriptor[]> {
  const { repository, subjectDigest, artifactType } = query;
  const filter = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
  const fromApi = await transport.request(
    {
      method: 'GET',
      url: `/v2/${repository}/referrers/${subjectDigest}${filter}`,
      scopes: [`repository:${repository}:pull`],
      headers: { accept: MEDIA_TYPE_IMAGE_INDEX },
    },
    async (response) => {
      if (response.status === 404) {
        await response.discard();
        return undefined;
      }
      if (response.status !== 200) throw await response.fail('REGISTRY_PROTOCOL', '200 or 404');
      const bytes = await response.bytes(
        MAX_INDEX_BYTES,
        () => new RegistryError('REFERRERS_INDEX_INVALID', `referrers of ${subjectDigest}: index too large`),
      );
      return parseIndex(bytes, `referrers index of ${repository}@${subjectDigest}`, 'REFERRERS_INDEX_INVALID');
    },
  );
  let index = fromApi;
  if (index === undefined) {
    const tag = referrersTag(subjectDigest);
    // Accept everything: a registry may hide a non-index behind 404 for a narrow Accept, and the
    // tag would then look free.
    const fetched = await getManifest(tag, DEFAULT_MANIFEST_ACCEPT);
    if (fetched === undefined) return [];
    if (bareMediaType(fetched.mediaType) !== MEDIA_TYPE_IMAGE_INDEX) {
      throw new RegistryError(
        'REFERRERS_INDEX_INVALID',
        `${repository}:${tag} is ${fetched.mediaType}, not an image index (tag-schema referrers)`,
      );
    }
    index = parseIndex(fetched.bytes, `${repository}:${tag}`, 'REFERRERS_INDEX_INVALID');
  }
  return index.manifests.filter((d) => artifactType === undefined || d.artifactType === artifactType);
}
