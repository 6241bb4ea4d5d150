import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { BuilderIdentity, BuildEvent, RegistryAccess, runSecureBuild } from '@secure-build/build';
import { isDomainError } from '@secure-build/common';
import type { RunBuildPayload } from '@secure-build/queue';
import type { SignaturePolicy } from '@secure-build/source';
import type { BuildRecord, Store } from '@secure-build/store';

import type { ServiceMetrics } from '../metrics/service-metrics';
import { LogSink } from './log-sink';

// Failures that a retry cannot fix: the same commit and recipe fail the same way again.
const TERMINAL_CODES = new Set([
  'INVALID_URL',
  'LOCAL_REPO_NOT_ALLOWED',
  'INVALID_COMMIT',
  'INVALID_REF',
  'RECIPE_NOT_FOUND',
  'RECIPE_SYNTAX',
  'RECIPE_INVALID',
  'RECIPE_PATH_INVALID',
  'BUILD_FAILED',
  'BUILD_TIMEOUT',
  'NOT_REPRODUCIBLE',
  'OUTPUT_MISSING',
  'PATH_INVALID',
  'PATH_CONFLICT',
  'UNSUPPORTED_FILE_TYPE',
  'BASE_IMAGE_UNSUPPORTED',
  'BASE_IMAGE_INVALID',
  'PUSH_REFERENCE_INVALID',
  'REFERENCE_INVALID',
  'REGISTRY_AUTH_FAILED',
  'REGISTRY_DENIED',
  'MANIFEST_UNKNOWN',
  'MANIFEST_INVALID',
  'PLATFORM_NOT_FOUND',
  'DIGEST_MISMATCH',
  'SUBMODULE_INVALID',
  'COMMIT_MISMATCH',
  'JOB_MISMATCH',
  'INVALID_OPTIONS',
  'NOT_REACHABLE',
  'REF_NOT_FOUND',
  'SIGNATURE_MISSING',
  'SIGNATURE_UNTRUSTED',
  'SIGNATURE_INVALID',
  'SIGNATURE_POLICY_INVALID',
]);

/** The build failed; `retryable` tells the queue whether another attempt may succeed. */
export class BuildRunFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'BuildRunFailed';
  }
}

/** The worker is shutting down: the job must go back to the queue without using an attempt. */
export class BuildInterrupted extends Error {
  constructor(readonly buildId: string) {
    super(`build ${buildId} interrupted by worker shutdown; returned to the queue`);
    this.name = 'BuildInterrupted';
  }
}

/** Worker settings the runner needs. */
export interface BuildRunnerOptions {
  dataDir: string;
  workerId: string;
  publicUrl: string;
  allowLocalRepos: boolean;
  insecureNoSandbox: boolean;
  rebuild: boolean;
  perBuildEvidence?: boolean;
  builderVersion: Record<string, string>;
  /** registry access: a build naming `imageName` is pushed with its provenance attached */
  registries?: RegistryAccess;
  /** how often a running build checks whether it was cancelled */
  cancelPollMs?: number;
}

/** One job's context from the queue. */
export interface RunContext {
  attempt: number;
  maxAttempts: number;
  /** aborted when the worker shuts down */
  shutdown: AbortSignal;
}

/**
 * Runs one queued build inside this worker's TEE identity and records everything in the store.
 * Execution is at least once (jobs can be redelivered); completion is exactly once (the store
 * accepts one bundle per build).
 */
export class BuildRunner {
  constructor(
    private readonly store: Store,
    private readonly identity: BuilderIdentity,
    private readonly options: BuildRunnerOptions,
    private readonly metrics?: ServiceMetrics,
  ) {}

  async run(payload: RunBuildPayload, ctx: RunContext): Promise<'succeeded' | 'skipped' | 'cancelled'> {
    const build = await this.store.builds.get(payload.buildId);
    if (!build) throw new BuildRunFailed('JOB_MISMATCH', `build ${payload.buildId} does not exist`, false);
    assertMatches(build, payload);
    const running = await this.store.builds.start(build.id, { workerId: this.options.workerId, attempt: ctx.attempt });
    if (!running) return 'skipped'; // already succeeded, failed or cancelled: a duplicate delivery

    const logs = new LogSink(this.store, build.id, ctx.attempt);
    const cancelled = new AbortController();
    const poll = setInterval(() => {
      void this.store.builds.get(build.id).then(
        (b) => b?.status === 'cancelled' && cancelled.abort(),
        () => undefined,
      );
    }, this.options.cancelPollMs ?? 1000);
    // One directory per execution, not per attempt: a duplicate or redelivered job can run the same
    // attempt concurrently, and a shared directory would be wiped and overwritten under the other run.
    const outDir = join(this.options.dataDir, 'builds', build.id, `attempt-${ctx.attempt}-${randomUUID()}`);
    // Stage events are written one after another: concurrent inserts could commit an 'end' before
    // its 'start' (then the stage shows no duration), and a finished build must show every stage.
    let stageWrites = Promise.resolve();
    try {
      logs.write(`secure-build worker ${this.options.workerId} attempt ${ctx.attempt}/${ctx.maxAttempts}\n`);
      const result = await runSecureBuild({
        repository: build.repository,
        commit: build.commit,
        ref: build.ref ?? undefined,
        recipePath: build.recipePath,
        imageName: build.imageName ?? undefined,
        registries: this.options.registries,
        ...(build.imageName && this.options.registries ? { push: build.imageName } : {}),
        // Validated again by the source lib before use: the store is not trusted blindly either.
        signaturePolicy: (build.signaturePolicy ?? undefined) as SignaturePolicy | undefined,
        outDir,
        allowLocalRepo: this.options.allowLocalRepos,
        rebuild: this.options.rebuild,
        perBuildEvidence: this.options.perBuildEvidence ?? false,
        sandbox: this.options.insecureNoSandbox ? 'insecure-no-sandbox' : 'bubblewrap',
        identity: this.identity,
        builderVersion: this.options.builderVersion,
        invocationId: `${this.options.publicUrl}/v1/builds/${build.id}`,
        workRoot: join(this.options.dataDir, 'work'),
        signal: AbortSignal.any([ctx.shutdown, cancelled.signal]),
        onEvent: (event) => {
          const write = this.onEvent(build.id, ctx.attempt, event, logs);
          if (write) stageWrites = stageWrites.then(write);
        },
      });
      await stageWrites;
      const statement = JSON.parse(result.provenance.payload.toString('utf8')) as {
        subject: { name?: string; digest: Record<string, string> }[];
      };
      const outcome = await this.store.builds.complete(build.id, {
        manifestDigest: result.manifestDigest,
        bundleJson: JSON.stringify(result.provenance.bundle),
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        signingKeySha256: this.identity.key.spkiSha256,
        ...(result.published
          ? {
              published: {
                reference: result.published.reference,
                attestationDigest: result.published.attestation.digest,
              },
            }
          : {}),
        subjects: statement.subject.flatMap((s) =>
          Object.entries(s.digest).map(([algorithm, digest]) => ({ algorithm, digest, name: s.name })),
        ),
      });
      logs.write(
        outcome === 'completed'
          ? `provenance stored for ${result.manifestDigest}\n`
          : `result discarded: build is ${outcome}\n`,
      );
      return outcome === 'not-running' ? 'cancelled' : 'succeeded';
    } catch (error) {
      if (cancelled.signal.aborted) {
        logs.write('build cancelled\n');
        return 'cancelled';
      }
      if (ctx.shutdown.aborted) {
        logs.write('worker shutting down: build returned to the queue\n');
        await this.store.builds.requeue(build.id);
        throw new BuildInterrupted(build.id);
      }
      throw await this.recordFailure(build.id, error, ctx, logs);
    } finally {
      clearInterval(poll);
      await stageWrites;
      await logs.close();
    }
  }

  private async recordFailure(
    buildId: string,
    error: unknown,
    ctx: RunContext,
    logs: LogSink,
  ): Promise<BuildRunFailed> {
    const code = isDomainError(error) ? error.code : 'INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    const retryable = !TERMINAL_CODES.has(code);
    const final = !retryable || ctx.attempt >= ctx.maxAttempts;
    logs.write(`build failed [${code}]: ${message}${final ? '' : ' (will retry)'}\n`);
    if (final) {
      await this.store.builds.fail(buildId, { code, reason: message });
      this.metrics?.failures.inc({ reason: code });
    }
    return new BuildRunFailed(code, message, retryable);
  }

  /** Writes log chunks; returns the store write for a stage event (the caller serializes them). */
  private onEvent(
    buildId: string,
    attempt: number,
    event: BuildEvent,
    logs: LogSink,
  ): (() => Promise<void>) | undefined {
    if (event.type === 'log') {
      logs.write(event.chunk);
      return undefined;
    }
    const record =
      event.type === 'stage-start'
        ? { attempt, stage: event.stage, event: 'start' as const, detail: event.detail }
        : { attempt, stage: event.stage, event: 'end' as const, durationMs: event.durationMs };
    if (event.type === 'stage-end')
      this.metrics?.stageDuration.observe({ stage: event.stage }, event.durationMs / 1000);
    return () => this.store.builds.recordStage(buildId, record).catch(() => undefined);
  }
}

function assertMatches(build: BuildRecord, payload: RunBuildPayload): void {
  const same =
    build.repository === payload.repository &&
    build.commit === payload.commit &&
    build.recipePath === payload.recipePath &&
    (build.ref ?? undefined) === payload.ref &&
    (build.imageName ?? undefined) === payload.imageName;
  if (!same)
    throw new BuildRunFailed(
      'JOB_MISMATCH',
      `job for build ${build.id} does not match the accepted build; refusing to run it`,
      false,
    );
}
