/** Lifecycle of a build; persisted in builds.status (values never renamed without a migration). */
export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Every build status, in lifecycle order. */
export const BUILD_STATUSES: readonly BuildStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

/** One row of builds, camelCased. */
export interface BuildRecord {
  id: string;
  status: BuildStatus;
  repository: string;
  commit: string;
  ref: string | null;
  recipePath: string;
  imageName: string | null;
  /** Id of the API token that requested the build. */
  createdBy: string | null;
  idempotencyKey: string | null;
  /** Hash of the request body, compared when an idempotency key is replayed. */
  requestHash: string | null;
  attempts: number;
  workerId: string | null;
  manifestDigest: string | null;
  failureCode: string | null;
  failureReason: string | null;
  /** Project whose webhook started the build, if any. */
  projectId: string | null;
  /** Signature policy the worker enforces on the commit (snapshot taken when the build was accepted). */
  signaturePolicy: unknown;
  /** `host/repo@sha256:…` the image was pushed to, when the build named an image */
  publishedReference: string | null;
  /** digest of the provenance artifact manifest attached to the pushed image */
  attestationDigest: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** Input of BuildRepository.create. */
export interface CreateBuildInput {
  repository: string;
  commit: string;
  ref?: string;
  recipePath: string;
  imageName?: string;
  createdBy?: string;
  idempotencyKey?: string;
  requestHash?: string;
  projectId?: string;
  /** JSON snapshot of the project's signature policy, enforced by the worker */
  signaturePolicy?: unknown;
}

/** Filter and page of BuildRepository.list. */
export interface ListBuildsFilter {
  repository?: string;
  status?: BuildStatus;
  commit?: string;
  /** Page size, 1..200. */
  limit: number;
  /** Opaque `nextCursor` of the previous page. */
  cursor?: string;
}

/** One page of builds, newest first. */
export interface BuildPage {
  items: BuildRecord[];
  /** Cursor of the next page, null on the last page. */
  nextCursor: string | null;
}

/** Stage boundary reported by the worker. */
export interface StageEventInput {
  attempt: number;
  stage: string;
  event: 'start' | 'end';
  durationMs?: number;
  detail?: string;
}

/** One recorded stage boundary. */
export interface StageEvent {
  id: number;
  buildId: string;
  attempt: number;
  stage: string;
  event: 'start' | 'end';
  durationMs: number | null;
  detail: string | null;
  at: Date;
}

/** Subject (artifact digest) a provenance bundle attests. */
export interface BundleSubject {
  algorithm: string;
  digest: string;
  name?: string;
}

/** Result of a successful build, stored with its signed bundle. */
export interface CompleteBuildInput {
  manifestDigest: string;
  /** Serialized bundle, stored byte-for-byte. */
  bundleJson: string;
  mediaType: string;
  signingKeySha256: string;
  subjects: BundleSubject[];
  /** set when the image was pushed and the bundle attached to it */
  published?: { reference: string; attestationDigest: string };
}

/** Outcome of BuildRepository.complete. */
export type CompleteBuildResult = 'completed' | 'already-completed' | 'not-running';

/** Outcome of BuildRepository.cancel. */
export type CancelBuildResult = 'cancelled' | 'already-terminal' | 'not-found';
