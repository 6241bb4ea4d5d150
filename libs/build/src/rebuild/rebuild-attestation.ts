import { sha256Hex } from '@secure-build/common';
import type { LayoutDifference } from '@secure-build/oci';

import type { BuilderIdentity } from '../pipeline/builder-identity';
import type { RebuildParameters } from './rebuild-parameters';

/** Predicate type of a rebuild attestation (persistent identifier). */
export const REBUILD_PREDICATE_TYPE = 'https://securebuild.dev/rebuild/v1';

/** Inputs of {@link buildRebuildStatement}. */
export interface RebuildStatementInput {
  original: RebuildParameters;
  /** exact bytes of the first build's bundle */
  originalBundle: Buffer;
  rebuild: { manifestDigest: string; diffIds: string[]; bundle: Buffer; outDir?: string };
  differences: LayoutDifference[] | undefined;
  identity: BuilderIdentity;
  finishedOn: Date;
}

/**
 * An in-toto statement about the first build's image: whether an independent build on another
 * worker reproduced it. It links both bundles by digest, so an auditor can fetch and verify each
 * (the rebuild's own bundle carries the rebuilder's TEE evidence).
 */
export function buildRebuildStatement(input: RebuildStatementInput): object {
  const { original, rebuild } = input;
  const reproduced = rebuild.manifestDigest === original.manifestDigest;
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      {
        ...(original.imageName ? { name: original.imageName } : {}),
        digest: { sha256: original.manifestDigest.slice('sha256:'.length) },
      },
    ],
    predicateType: REBUILD_PREDICATE_TYPE,
    predicate: {
      reproduced,
      diffIdsEqual: JSON.stringify(rebuild.diffIds) === JSON.stringify(original.diffIds),
      original: {
        bundle: { sha256: sha256Hex(input.originalBundle) },
        manifestDigest: original.manifestDigest,
        diffIds: original.diffIds,
        ...(original.builderId ? { builderId: original.builderId } : {}),
        ...(original.invocationId ? { invocationId: original.invocationId } : {}),
        source: {
          repository: original.repository,
          commit: original.commit,
          ...(original.ref ? { ref: original.ref } : {}),
        },
      },
      rebuild: {
        bundle: { sha256: sha256Hex(rebuild.bundle) },
        manifestDigest: rebuild.manifestDigest,
        diffIds: rebuild.diffIds,
        tee: input.identity.tee,
        signingKey: { sha256: input.identity.key.spkiSha256 },
        finishedOn: input.finishedOn.toISOString(),
      },
      ...(input.differences ? { differences: input.differences.slice(0, 200) } : {}),
    },
  };
}
