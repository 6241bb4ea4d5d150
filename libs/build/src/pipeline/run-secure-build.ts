import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { canonicalJson, sha256Hex } from '@secure-build/common';
import { diffLayouts, ImageLayoutResult, writeImageLayout } from '@secure-build/oci';
import { computeTeeBinding, TeeEvidence } from '@secure-build/attestation';
import {
  attachBuildEvidence,
  buildEvidenceDigest,
  buildProvenanceStatement,
  ProvenanceStatement,
  RebuildOutcome,
  signProvenance,
  SignedProvenance,
} from '@secure-build/provenance';
import { assertSandboxAvailable, ResourceLimits, runSandboxed, SandboxResult } from '@secure-build/sandbox';
import {
  CommitSignatureResult,
  fetchPinnedCommit,
  parseCommitSha,
  parseGitRef,
  parseRepositoryUrl,
  SignaturePolicy,
  SourceCheckout,
  verifyCommitReachable,
  verifyCommitSignature,
} from '@secure-build/source';

import { DEFAULT_RECIPE_PATH, loadRecipe, parseRecipePath, Recipe } from '../recipe';
import { BuildError } from './build-error';
import { BuildEvent, BuildStage } from './build-events';
import { BuildLog } from './build-log';
import { BuilderIdentity } from './builder-identity';
import { resolveBaseImage, ResolvedBaseImage, shareBaseBlobs } from './base-image';
import { parsePushTarget, publishImage, PublishedImage } from '../publish/publish-image';
import type { RegistryAccess } from '../publish/registry-access';

/**
 * Limits for each sandboxed build unless the caller sets its own: generous for real toolchains,
 * but a runaway or hostile build cannot exhaust the worker (fork bombs, disk filling, fd leaks).
 */
export const DEFAULT_BUILD_LIMITS: Readonly<ResourceLimits> = {
  memoryBytes: 16 * 1024 ** 3,
  maxProcesses: 1024,
  maxFileBytes: 8 * 1024 ** 3,
  maxOpenFiles: 8192,
  tmpSizeBytes: 1024 ** 3,
};

/** File names written into the output directory; scripts depend on them. */
export const OUTPUT_FILES = { layout: 'oci', bundle: 'provenance.sigstore.json', log: 'build.log' } as const;

/** One build request, already authorized by the caller. */
export interface SecureBuildRequest {
  repository: string;
  commit: string;
  ref?: string;
  recipePath?: string;
  imageName?: string;
  /** receives oci/, provenance.sigstore.json and build.log; must be empty or absent */
  outDir: string;
  allowLocalRepo?: boolean;
  /** false skips the second build (recorded in the provenance) */
  rebuild?: boolean;
  /** commit signature policy the source must satisfy before anything is built (default: none) */
  signaturePolicy?: SignaturePolicy;
  /** also take a second quote whose REPORTDATA binds this build's statement (docs/provenance.md) */
  perBuildEvidence?: boolean;
  /** aborting cancels the build: running sandboxes are killed, no provenance is signed */
  signal?: AbortSignal;
  /** resource limits per build; DEFAULT_BUILD_LIMITS when absent */
  limits?: ResourceLimits;
  /** 'insecure-no-sandbox' is for development only and is recorded in the provenance */
  sandbox?: 'bubblewrap' | 'insecure-no-sandbox';
  identity: BuilderIdentity;
  builderVersion: Record<string, string>;
  invocationId?: string;
  /** how to reach registries: base images are pulled and `push` targets pushed through it */
  registries?: RegistryAccess;
  /** `host[:port]/repo[:tag]`: push the image, then attach the bundle to it, after signing */
  push?: string;
  /** parent for temporary work directories (default: the OS temp dir) */
  workRoot?: string;
  onEvent?: (event: BuildEvent) => void;
  now?: () => Date;
}

/** What a successful build produced. */
export interface SecureBuildResult {
  outDir: string;
  manifestDigest: string;
  diffIds: string[];
  commit: string;
  provenance: SignedProvenance;
  reproducible: boolean | 'not-checked';
  /** set when `push` was given */
  published?: PublishedImage;
  stageDurationsMs: Partial<Record<BuildStage, number>>;
}

/**
 * Runs the trusted pipeline: fetch exactly the pinned commit, build it in a no-network sandbox,
 * pack a deterministic OCI image, rebuild it in a fresh sandbox to check reproducibility, and sign
 * SLSA v1 provenance bound to the builder's TEE evidence.
 */
export async function runSecureBuild(request: SecureBuildRequest): Promise<SecureBuildResult> {
  const now = request.now ?? (() => new Date());
  const startedOn = now();
  // Validate every user input before anything touches git or the file system.
  const commit = parseCommitSha(request.commit);
  const repository = parseRepositoryUrl(request.repository, { allowLocal: request.allowLocalRepo ?? false });
  const recipePath = parseRecipePath(request.recipePath ?? DEFAULT_RECIPE_PATH);
  const ref = request.ref === undefined ? undefined : parseGitRef(request.ref);
  const sandboxMode = request.sandbox ?? 'bubblewrap';
  const limits = request.limits ?? DEFAULT_BUILD_LIMITS;
  const pushTarget = request.push === undefined ? undefined : parsePushTarget(request.push);
  if (pushTarget && !request.registries) {
    throw new BuildError('INVALID_OPTIONS', 'push needs registry access (registries) to be configured');
  }
  const outDir = resolve(request.outDir);
  await prepareOutDir(outDir);

  const emit = request.onEvent ?? (() => undefined);
  const log = new BuildLog(join(outDir, OUTPUT_FILES.log), (chunk) => emit({ type: 'log', chunk }));
  const durations: Partial<Record<BuildStage, number>> = {};
  const stage = async <T>(name: BuildStage, detail: string, fn: () => Promise<T>): Promise<T> => {
    if (request.signal?.aborted) throw new BuildError('BUILD_CANCELLED', `build cancelled before ${name}`);
    emit({ type: 'stage-start', stage: name, detail });
    log.line(`==> ${name}: ${detail}`);
    const t0 = performance.now();
    const value = await fn();
    durations[name] = Math.round(performance.now() - t0);
    emit({ type: 'stage-end', stage: name, durationMs: durations[name] ?? 0 });
    return value;
  };

  const work = await mkdtemp(join(request.workRoot ?? tmpdir(), 'secure-build-'));
  // The sandbox runs as an unprivileged host uid that must traverse (not list) this directory.
  await chmod(work, 0o711);
  try {
    // Refuse before fetching anything when the sandbox cannot run.
    if (sandboxMode === 'bubblewrap') await assertSandboxAvailable();
    const source = await stage('source', `${repository.display} @ ${commit}`, () =>
      fetchPinnedCommit({
        repository: repository.url,
        commit,
        destDir: join(work, 'source'),
        allowLocal: request.allowLocalRepo ?? false,
        onLog: (line) => log.line(line),
      }),
    );
    // Both checks run before any recipe code: an unreachable or unsigned commit builds nothing.
    const policy = request.signaturePolicy ?? { mode: 'none' };
    const checks = await stage('verify', describeChecks(ref, policy), async () => {
      const refVerified = ref
        ? await verifyCommitReachable({
            dir: source.dir,
            repository: repository.url,
            ref,
            commit: source.commit,
            allowLocal: request.allowLocalRepo ?? false,
          })
        : undefined;
      if (refVerified) log.line(`commit ${source.commit} is reachable from ${ref} (at ${refVerified.refCommit})`);
      const signature = await verifyCommitSignature({ dir: source.dir, commit: source.commit, policy });
      if (signature.method !== 'none')
        log.line(`commit signed by ${signature.signer} (${signature.method} key ${signature.keyFingerprint})`);
      return { refVerified, signature };
    });
    const recipe = await stage('recipe', recipePath, () => loadRecipe(source.dir, recipePath));
    const base =
      recipe.image.base === 'scratch'
        ? undefined
        : await stage('base', recipe.image.base, async () => {
            const resolved = await resolveBaseImage(recipe.image.base, request.registries, join(work, 'base'));
            log.line(
              `base image ${resolved.reference}: manifest ${resolved.manifestDigest}, ${resolved.layers.length} layer(s)`,
            );
            return resolved;
          });
    const recipeSha256 = sha256Hex(await readFile(join(source.dir, recipePath)));

    const plan: BuildPlan = { source, recipe, mode: sandboxMode, limits, signal: request.signal };
    // The rebuild is independent of the first build, so it runs alongside it: on two or more cores
    // the reproducibility check then costs little wall-clock time. Its log is kept apart and appended.
    const rebuildLog = (request.rebuild ?? true) ? new BuildLog(join(work, 'rebuild.log')) : undefined;
    const pendingRebuild = rebuildLog
      ? (async () => {
          const second = await buildOnce(plan, join(work, 'build-2'), '/rebuild/work/src', rebuildLog);
          return packImage(second.treeDir, recipe, source, request.imageName, join(work, 'rebuild-oci'), base);
        })()
      : undefined;
    pendingRebuild?.catch(() => undefined); // awaited below; never left unhandled

    let image: ImageLayoutResult;
    let first: SandboxResult;
    try {
      first = await stage('build', describeRun(recipe), () =>
        buildOnce(plan, join(work, 'build-1'), '/build/src', log),
      );
      image = await stage('image', 'deterministic OCI layout', () =>
        packImage(first.treeDir, recipe, source, request.imageName, join(outDir, OUTPUT_FILES.layout), base),
      );
    } catch (error) {
      await pendingRebuild?.catch(() => undefined); // let it finish before the work dir goes away
      throw error;
    }
    log.line(`image manifest ${image.manifestDigest}`);

    let rebuild: RebuildOutcome = { performed: false, reason: 'disabled by --no-rebuild' };
    if (pendingRebuild && rebuildLog) {
      rebuild = await stage('rebuild', 'second build in a fresh sandbox at another path', async () => {
        const again = await pendingRebuild.finally(async () => {
          await rebuildLog.close();
          await appendPrefixed(log, join(work, 'rebuild.log'), '[rebuild] ');
        });
        await assertReproduced(image, again, join(outDir, OUTPUT_FILES.layout), join(work, 'rebuild-oci'), log);
        return { performed: true, reproduced: true, manifestDigest: again.manifestDigest, diffIds: again.diffIds };
      });
    }

    const provenance = await stage(
      'provenance',
      `sign with ${request.identity.tee} key ${request.identity.key.spkiSha256.slice(0, 16)}…`,
      async () => {
        log.line('build finished; signing provenance');
        const buildLog = await log.close();
        const statement = buildProvenanceStatement({
          tee: request.identity.tee,
          builderVersion: request.builderVersion,
          toolchain: toolchainVersions(source, first.sandbox),
          source: {
            repository: repository.display,
            ref,
            commit: source.commit,
            treeId: source.treeId,
            commitTime: source.commitTime,
            submodules: source.submodules,
            refVerified: checks.refVerified,
            signature: summarizeSignature(checks.signature),
          },
          recipePath,
          recipeSha256,
          image: {
            name: request.imageName,
            manifestDigest: image.manifestDigest,
            configDigest: image.configDigest,
            layers: image.layers,
            diffIds: image.diffIds,
            compressor: image.compressor,
            base: recipe.image.base,
            ...(base
              ? { baseImage: { manifestDigest: base.manifestDigest, diffIds: base.layers.map((l) => l.diffId) } }
              : {}),
          },
          sandbox: first.sandbox,
          rebuild,
          buildLog,
          signingKey: { pem: request.identity.key.publicKeyPem, spkiSha256: request.identity.key.spkiSha256 },
          evidence: {
            ...evidenceForStatement(request.identity.evidence),
            binding: {
              purpose: 'worker-key',
              reportData: request.identity.reportData.toString('hex'),
              ...(request.identity.workerRef ? { workerRef: request.identity.workerRef } : {}),
            },
          },
          invocationId: request.invocationId ?? `urn:uuid:${randomUUID()}`,
          startedOn,
          finishedOn: now(),
        });
        const final = request.perBuildEvidence ? await withBuildEvidence(statement, request.identity) : statement;
        const signed = await signProvenance(final, request.identity.key);
        await writeAtomically(join(outDir, OUTPUT_FILES.bundle), `${JSON.stringify(signed.bundle, null, 2)}\n`);
        return signed;
      },
    );

    const published =
      pushTarget && request.registries
        ? await stage('publish', request.push ?? '', () =>
            publishImage({
              registries: request.registries as RegistryAccess,
              target: pushTarget,
              layoutDir: join(outDir, OUTPUT_FILES.layout),
              bundleJson: JSON.stringify(provenance.bundle),
              onLog: (line) => emit({ type: 'log', chunk: `${line}\n` }),
            }),
          )
        : undefined;

    return {
      outDir,
      manifestDigest: image.manifestDigest,
      ...(published ? { published } : {}),
      diffIds: image.diffIds,
      commit: source.commit,
      provenance,
      reproducible: rebuild.performed ? true : 'not-checked',
      stageDurationsMs: durations,
    };
  } catch (error) {
    log.line(`build failed: ${(error as Error).message}`);
    throw error;
  } finally {
    await log.close().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

async function appendPrefixed(log: BuildLog, path: string, prefix: string): Promise<void> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) log.line(`${prefix}${line}`);
}

async function withBuildEvidence(
  statement: ProvenanceStatement,
  identity: BuilderIdentity,
): Promise<ProvenanceStatement> {
  const provenanceDigest = buildEvidenceDigest(statement);
  const reportData = computeTeeBinding({
    purpose: 'provenance',
    signingKeySpkiDer: identity.key.spkiDer,
    provenanceDigest,
  });
  const evidence = await identity.provider.collect(reportData, { signingKeySpkiDer: identity.key.spkiDer });
  if (evidence.format !== 'tdx-quote-v4') {
    throw new BuildError(
      'EVIDENCE_UNAVAILABLE',
      'per-build evidence is a TDX quote; this builder attests with IBM SE results',
    );
  }
  return attachBuildEvidence(statement, {
    mediaType: evidence.mediaType,
    bytes: evidence.quote,
    collateral: evidence.collateral,
    provenanceDigest,
  });
}

/** How the builder's key evidence appears in the statement's `tee-evidence` byproduct. */
function evidenceForStatement(evidence: TeeEvidence): {
  mediaType: string;
  bytes: Buffer;
  collateral: unknown;
  teeType: string;
} {
  switch (evidence.format) {
    case 'tdx-quote-v4':
      return {
        mediaType: evidence.mediaType,
        bytes: evidence.quote,
        collateral: evidence.collateral,
        teeType: evidence.simulated ? 'tdx-sim' : 'tdx',
      };
    case 'ibm-se-attestation-result':
      // The attestation service's signed verdict, as canonical JSON bytes.
      return {
        mediaType: evidence.mediaType,
        bytes: Buffer.from(canonicalJson(evidence.result), 'utf8'),
        collateral: undefined,
        teeType: evidence.simulated ? 'ibm-se-sim' : 'ibm-se',
      };
  }
}

interface BuildPlan {
  source: SourceCheckout;
  recipe: Recipe;
  mode: 'bubblewrap' | 'insecure-no-sandbox';
  limits: ResourceLimits;
  signal?: AbortSignal;
}

async function buildOnce(plan: BuildPlan, workDir: string, mountPath: string, log: BuildLog): Promise<SandboxResult> {
  const { source, recipe, mode, limits, signal } = plan;
  await mkdir(workDir, { recursive: true });
  return runSandboxed({
    sourceDir: source.dir,
    workDir,
    mountPath,
    command: recipe.build.run,
    env: recipe.build.env,
    sourceDateEpoch: source.commitTime,
    timeoutMs: recipe.build.timeoutSeconds * 1000,
    mode,
    limits,
    signal,
    onLog: (chunk) => log.write(chunk),
  });
}

async function packImage(
  treeDir: string,
  recipe: Recipe,
  source: SourceCheckout,
  imageName: string | undefined,
  layoutDir: string,
  base: ResolvedBaseImage | undefined,
): Promise<ImageLayoutResult> {
  if (base) await shareBaseBlobs(base, layoutDir);
  return writeImageLayout({
    ...(base ? { baseLayers: base.layers, baseConfig: base.config } : {}),
    outDir: layoutDir,
    layers: recipe.build.outputs.map((o) => ({ from: join(treeDir, o.from), to: o.to })),
    sourceDateEpoch: source.commitTime,
    config: {
      entrypoint: recipe.image.entrypoint,
      cmd: recipe.image.cmd,
      env: recipe.image.env,
      workingDir: recipe.image.workdir,
      user: recipe.image.user,
      labels: {
        ...recipe.image.labels,
        'org.opencontainers.image.revision': source.commit,
        'org.opencontainers.image.source': source.repository,
      },
    },
    ...(imageName ? { refName: imageName } : {}),
  });
}

async function assertReproduced(
  first: ImageLayoutResult,
  second: ImageLayoutResult,
  firstDir: string,
  secondDir: string,
  log: BuildLog,
): Promise<void> {
  const sameDiffIds =
    first.diffIds.length === second.diffIds.length && first.diffIds.every((d, i) => d === second.diffIds[i]);
  if (first.manifestDigest === second.manifestDigest && sameDiffIds) {
    log.line(`rebuild reproduced ${first.manifestDigest}`);
    return;
  }
  const diff = await diffLayouts(firstDir, secondDir);
  const listed = diff.differences.slice(0, 50).map((d) => `${d.path} (${d.kind})`);
  log.line(`NOT REPRODUCIBLE: ${first.manifestDigest} vs ${second.manifestDigest}`);
  for (const line of listed) log.line(`  differs: ${line}`);
  throw new BuildError(
    'NOT_REPRODUCIBLE',
    `not reproducible: two builds of the same commit produced ${first.manifestDigest} and ${second.manifestDigest}; differing files: ${listed.join(', ') || '(image metadata only)'}${diff.differences.length > 50 ? `, and ${diff.differences.length - 50} more` : ''}`,
    { details: { differences: diff.differences, manifestDigests: [first.manifestDigest, second.manifestDigest] } },
  );
}

function toolchainVersions(source: SourceCheckout, sandbox: SandboxResult['sandbox']): Record<string, string> {
  return {
    git: source.gitVersion,
    node: process.versions.node,
    zlib: process.versions.zlib,
    ...(sandbox.kind === 'bubblewrap' ? { bubblewrap: sandbox.version } : {}),
  };
}

function describeChecks(ref: string | undefined, policy: SignaturePolicy): string {
  const parts = [
    ref ? `reachable from ${ref}` : 'no ref to check',
    policy.mode === 'none' ? 'no signature required' : `${policy.mode} signature required`,
  ];
  return parts.join(', ');
}

function summarizeSignature(result: CommitSignatureResult) {
  return result.method === 'none'
    ? { method: 'none' as const }
    : { method: result.method, signer: result.signer, keyFingerprint: result.keyFingerprint };
}

function describeRun(recipe: Recipe): string {
  return typeof recipe.build.run === 'string' ? recipe.build.run : recipe.build.run.join(' ');
}

async function prepareOutDir(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const existing = await readdir(outDir);
  if (existing.length > 0) {
    throw new BuildError(
      'OUTPUT_DIR_NOT_EMPTY',
      `output directory ${outDir} is not empty; choose a new one so no earlier result is overwritten`,
    );
  }
}

async function writeAtomically(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, content, { mode: 0o644 });
  await rename(`${path}.tmp`, path);
}
