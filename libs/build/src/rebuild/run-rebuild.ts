import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { diffLayouts, LayoutDifference } from '@secure-build/oci';
import { signStatement } from '@secure-build/provenance';

import { BuildError } from '../pipeline/build-error';
import type { BuildEvent } from '../pipeline/build-events';
import type { BuilderIdentity } from '../pipeline/builder-identity';
import { OUTPUT_FILES, runSecureBuild } from '../pipeline/run-secure-build';
import type { RegistryAccess } from '../publish/registry-access';
import { pullOriginalLayout } from './original-layout';
import { buildRebuildStatement } from './rebuild-attestation';
import { rebuildParametersOf, RebuildParameters } from './rebuild-parameters';

/** File the signed rebuild attestation is written to, next to the rebuild's own outputs. */
export const REBUILD_ATTESTATION_FILE = 'rebuild.sigstore.json';

/** Inputs of {@link runIndependentRebuild}. */
export interface IndependentRebuildRequest {
  /** exact bytes of the first build's Sigstore bundle */
  originalBundle: Buffer;
  outDir: string;
  identity: BuilderIdentity;
  builderVersion: Record<string, string>;
  registries?: RegistryAccess;
  allowLocalRepo?: boolean;
  sandbox?: 'bubblewrap' | 'insecure-no-sandbox';
  onEvent?: (event: BuildEvent) => void;
}

/** Outcome of an independent rebuild. */
export interface IndependentRebuildResult {
  original: RebuildParameters;
  manifestDigest: string;
  diffIds: string[];
  reproduced: boolean;
  /** Files that differ (when the original image could be pulled), else undefined. */
  differences?: LayoutDifference[];
  attestationPath: string;
}

/**
 * Rebuilds the commit named by a bundle's provenance with this builder's own identity, compares the
 * digests with the first build's, lists differing files when the original image is reachable, and
 * signs a rebuild attestation linking both bundles.
 */
export async function runIndependentRebuild(request: IndependentRebuildRequest): Promise<IndependentRebuildResult> {
  const original = rebuildParametersOf(statementOf(request.originalBundle));
  const result = await runSecureBuild({
    repository: original.repository,
    commit: original.commit,
    ...(original.ref ? { ref: original.ref } : {}),
    recipePath: original.recipePath,
    ...(original.imageName ? { imageName: original.imageName } : {}),
    outDir: request.outDir,
    allowLocalRepo: request.allowLocalRepo ?? false,
    registries: request.registries,
    // This run is the independent second build; its own in-worker rebuild would add nothing.
    rebuild: false,
    sandbox: request.sandbox ?? 'bubblewrap',
    identity: request.identity,
    builderVersion: request.builderVersion,
    onEvent: request.onEvent,
  });
  const reproduced = result.manifestDigest === original.manifestDigest;
  const differences = reproduced ? [] : await differencesFrom(request, original, result.outDir);
  const statement = buildRebuildStatement({
    original,
    originalBundle: request.originalBundle,
    rebuild: {
      manifestDigest: result.manifestDigest,
      diffIds: result.diffIds,
      bundle: Buffer.from(JSON.stringify(result.provenance.bundle)),
    },
    differences,
    identity: request.identity,
    finishedOn: new Date(),
  });
  const signed = await signStatement(statement, request.identity.key);
  const attestationPath = join(result.outDir, REBUILD_ATTESTATION_FILE);
  await writeFile(attestationPath, `${JSON.stringify(signed.bundle, null, 2)}\n`, { mode: 0o644 });
  return {
    original,
    manifestDigest: result.manifestDigest,
    diffIds: result.diffIds,
    reproduced,
    ...(differences ? { differences } : {}),
    attestationPath,
  };
}

function statementOf(bundle: Buffer): unknown {
  try {
    const parsed = JSON.parse(bundle.toString('utf8')) as { dsseEnvelope?: { payload?: unknown } };
    if (typeof parsed.dsseEnvelope?.payload !== 'string') throw new Error('no dsseEnvelope.payload');
    return JSON.parse(Buffer.from(parsed.dsseEnvelope.payload, 'base64').toString('utf8'));
  } catch (error) {
    throw new BuildError('INVALID_OPTIONS', `not a provenance bundle: ${(error as Error).message}`);
  }
}

async function differencesFrom(
  request: IndependentRebuildRequest,
  original: RebuildParameters,
  outDir: string,
): Promise<LayoutDifference[] | undefined> {
  if (!request.registries || !original.imageName) return undefined;
  const work = await mkdtemp(join(tmpdir(), 'secure-build-original-'));
  try {
    const layout = await pullOriginalLayout(request.registries, original.imageName, original.manifestDigest, work);
    if (!layout) return undefined;
    return (await diffLayouts(layout, join(outDir, OUTPUT_FILES.layout))).differences;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
