import { isSha256Digest } from '@secure-build/common';

import { BuildError } from '../pipeline/build-error';

/** What an independent rebuild needs from the first build's provenance. */
export interface RebuildParameters {
  repository: string;
  ref?: string;
  commit: string;
  recipePath: string;
  imageName?: string;
  /** `sha256:` of the first build's image manifest (its subject). */
  manifestDigest: string;
  diffIds: string[];
  builderId?: string;
  invocationId?: string;
}

interface StatementShape {
  subject?: { digest?: { sha256?: unknown } }[];
  predicate?: {
    buildDefinition?: {
      externalParameters?: {
        source?: { repository?: unknown; ref?: unknown; commit?: unknown };
        recipe?: { path?: unknown };
        image?: { name?: unknown };
      };
    };
    runDetails?: {
      builder?: { id?: unknown };
      metadata?: { invocationId?: unknown };
      byproducts?: { name?: unknown; annotations?: { diffIds?: unknown } }[];
    };
  };
}

/** Reads the rebuild parameters from a Secure Build provenance statement; names any missing field. */
export function rebuildParametersOf(statement: unknown): RebuildParameters {
  const s = (statement ?? {}) as StatementShape;
  const params = s.predicate?.buildDefinition?.externalParameters;
  const source = params?.source;
  const text = (value: unknown, field: string): string => {
    if (typeof value !== 'string' || value === '') {
      throw new BuildError('INVALID_OPTIONS', `provenance has no ${field}: not a Secure Build statement?`);
    }
    return value;
  };
  const subjectHex = s.subject?.[0]?.digest?.sha256;
  const manifestDigest = `sha256:${typeof subjectHex === 'string' ? subjectHex : ''}`;
  if (!isSha256Digest(manifestDigest)) {
    throw new BuildError('INVALID_OPTIONS', 'provenance has no sha256 subject digest');
  }
  const image = s.predicate?.runDetails?.byproducts?.find((b) => b?.name === 'oci-image');
  const diffIds = image?.annotations?.diffIds;
  return {
    repository: text(source?.repository, 'externalParameters.source.repository'),
    commit: text(source?.commit, 'externalParameters.source.commit'),
    ...(typeof source?.ref === 'string' ? { ref: source.ref } : {}),
    recipePath: text(params?.recipe?.path, 'externalParameters.recipe.path'),
    ...(typeof params?.image?.name === 'string' ? { imageName: params.image.name } : {}),
    manifestDigest,
    diffIds: Array.isArray(diffIds) ? diffIds.filter((d): d is string => typeof d === 'string') : [],
    ...(typeof s.predicate?.runDetails?.builder?.id === 'string'
      ? { builderId: s.predicate.runDetails.builder.id }
      : {}),
    ...(typeof s.predicate?.runDetails?.metadata?.invocationId === 'string'
      ? { invocationId: s.predicate.runDetails.metadata.invocationId }
      : {}),
  };
}
