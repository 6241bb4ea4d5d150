import { createHash } from 'node:crypto';

import {
  BUILDER_IDS,
  BuilderTee,
  BYPRODUCT,
  IN_TOTO_STATEMENT_TYPE,
  SECURE_BUILD_BUILD_TYPE,
  SLSA_PROVENANCE_V1,
} from './constants';
import { ProvenanceStatement, ResourceDescriptor } from './statement.types';

/** Outcome of the second, independent build used to check reproducibility. */
export type RebuildOutcome =
  | { performed: false; reason: string }
  | { performed: true; reproduced: true; manifestDigest: string; diffIds: string[] };

/** Everything the worker observed about one build; the statement is derived from it alone. */
export interface ProvenanceInput {
  tee: BuilderTee;
  builderVersion: Record<string, string>;
  /** toolchain and runtime versions, e.g. git, bubblewrap, node, zlib */
  toolchain: Record<string, string>;
  source: {
    repository: string;
    ref?: string;
    commit: string;
    treeId: string;
    commitTime: number;
    submodules: { path: string; url: string; commit: string }[];
    /** set when the worker checked that `commit` is reachable from `ref` on the remote */
    refVerified?: { ref: string; refCommit: string };
    /** the commit signature check the project's policy required ({method: 'none'} when none) */
    signature?: { method: 'none' } | { method: 'ssh' | 'openpgp'; signer: string; keyFingerprint: string };
  };
  recipePath: string;
  recipeSha256: string;
  image: {
    name?: string;
    manifestDigest: string;
    configDigest: string;
    layers: { digest: string; diffId: string; size: number; mediaType: string }[];
    diffIds: string[];
    compressor: { name: string; version: string; level: number };
    base: string;
    /** for a base other than scratch: the image manifest used (the platform's when the pin is an index) and its DiffIDs */
    baseImage?: { manifestDigest: string; diffIds: string[] };
  };
  sandbox: Record<string, unknown>;
  rebuild: RebuildOutcome;
  buildLog: { sha256: string; size: number };
  signingKey: { pem: string; spkiSha256: string };
  evidence: {
    mediaType: string;
    bytes: Buffer;
    collateral: unknown;
    teeType: string;
    binding: { purpose: 'worker-key'; reportData: string; workerRef?: string };
  };
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
}

/** Builds the in-toto Statement v1 / SLSA v1 provenance for one build (see docs/provenance.md). */
export function buildProvenanceStatement(input: ProvenanceInput): ProvenanceStatement {
  const { source, image } = input;
  const sourceUri = `git+${source.repository}${source.ref ? `@${source.ref}` : ''}`;
  const resolvedDependencies: ResourceDescriptor[] = [
    {
      uri: sourceUri,
      digest: { gitCommit: source.commit },
      annotations: {
        treeId: source.treeId,
        commitTime: source.commitTime,
        ...(source.refVerified ? { reachableFrom: source.refVerified } : {}),
        ...(source.signature ? { signature: source.signature } : {}),
      },
    },
    ...source.submodules.map((s) => ({
      uri: `git+${s.url}`,
      digest: { gitCommit: s.commit },
      annotations: { path: s.path },
    })),
  ];
  if (image.base !== 'scratch') {
    resolvedDependencies.push({
      uri: `oci://${image.base}`,
      digest: { sha256: hexOf(image.base.split('@')[1]) },
      ...(image.baseImage
        ? { annotations: { manifestDigest: image.baseImage.manifestDigest, diffIds: image.baseImage.diffIds } }
        : {}),
    });
  }

  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: image.name ?? 'oci-image', digest: { sha256: hexOf(image.manifestDigest) } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: SECURE_BUILD_BUILD_TYPE,
        externalParameters: {
          source: { repository: source.repository, ...(source.ref ? { ref: source.ref } : {}), commit: source.commit },
          recipe: { path: input.recipePath },
          ...(image.name ? { image: { name: image.name } } : {}),
        },
        internalParameters: {
          sandbox: input.sandbox,
          rebuild: input.rebuild.performed ? 'performed' : 'skipped',
          recipeDigest: { sha256: input.recipeSha256 },
          sourceDateEpoch: source.commitTime,
        },
        resolvedDependencies,
      },
      runDetails: {
        builder: {
          id: BUILDER_IDS[input.tee],
          version: input.builderVersion,
          builderDependencies: Object.entries(input.toolchain)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, version]) => ({ name, uri: `pkg:generic/${name}@${encodeURIComponent(version)}` })),
        },
        metadata: {
          invocationId: input.invocationId,
          startedOn: rfc3339(input.startedOn),
          finishedOn: rfc3339(input.finishedOn),
        },
        byproducts: byproducts(input),
      },
    },
  };
}

function byproducts(input: ProvenanceInput): ResourceDescriptor[] {
  const { image, rebuild, evidence } = input;
  return [
    {
      name: BYPRODUCT.image,
      digest: { sha256: hexOf(image.manifestDigest) },
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      annotations: {
        configDigest: image.configDigest,
        diffIds: image.diffIds,
        layers: image.layers,
        compressor: image.compressor,
      },
    },
    rebuild.performed
      ? {
          name: BYPRODUCT.reproducibility,
          digest: { sha256: hexOf(rebuild.manifestDigest) },
          annotations: { result: 'reproduced', method: 'rebuild-in-fresh-sandbox', diffIds: rebuild.diffIds },
        }
      : {
          name: BYPRODUCT.reproducibility,
          uri: 'https://securebuild.dev/reproducibility/not-checked',
          annotations: { result: 'not-checked', reason: rebuild.reason },
        },
    {
      name: BYPRODUCT.buildLog,
      digest: { sha256: input.buildLog.sha256 },
      mediaType: 'text/plain; charset=utf-8',
      annotations: { size: input.buildLog.size },
    },
    {
      name: BYPRODUCT.signingKey,
      digest: { sha256: input.signingKey.spkiSha256 },
      content: Buffer.from(input.signingKey.pem, 'utf8').toString('base64'),
      mediaType: 'application/x-pem-file',
      annotations: { algorithm: 'ecdsa-p256-sha256', digestOf: 'spki-der' },
    },
    {
      name: BYPRODUCT.teeEvidence,
      digest: { sha256: createHash('sha256').update(evidence.bytes).digest('hex') },
      content: evidence.bytes.toString('base64'),
      mediaType: evidence.mediaType,
      annotations: { teeType: evidence.teeType, binding: evidence.binding, collateral: evidence.collateral },
    },
  ];
}

function hexOf(digest: string | undefined): string {
  const hex = digest?.replace(/^sha256:/, '') ?? '';
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`not a sha256 digest: ${digest}`);
  return hex;
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
