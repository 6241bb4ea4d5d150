export { TokenBucketLimiter } from './auth/rate-limiter';
export { TokenAuth } from './auth/token-auth';
export type { Principal } from './auth/token-auth';
export { BuildersService } from './builders/builders.service';
export type { BuilderView } from './builders/builders.service';
export { buildRequestHash, parseBuildRequest, submitBuildBodySchema } from './builds/build-request';
export type { BuildRequest } from './builds/build-request';
export type { BuildView } from './builds/build-view';
export { BuildsService } from './builds/builds.service';
export type { BuildsServiceOptions } from './builds/builds.service';
export { ServiceMetrics } from './metrics/service-metrics';
export { ProvenanceService } from './provenance/provenance.service';
export { BullBuildQueue } from './queue/build-queue';
export type { BuildJobState, BuildQueue } from './queue/build-queue';
export { invalidField, ServiceError } from './service.error';
export type { ServiceErrorCode } from './service.error';
export { Sweeper } from './sweeper/sweeper';
export type { SweepReport, SweeperOptions } from './sweeper/sweeper';
export { registerBuilder } from './worker/builder-registration';
export { BuildInterrupted, BuildRunFailed, BuildRunner } from './worker/build-runner';
export type { BuildRunnerOptions, RunContext } from './worker/build-runner';
export {
  createProjectSchema,
  parseCreateProject,
  parseUpdateProject,
  refAllowed,
  updateProjectSchema,
} from './projects/project-request';
export type { ProjectFields, ProjectSignaturePolicy } from './projects/project-request';
export { ProjectsService, webhookSecretPurpose } from './projects/projects.service';
export type { ProjectView } from './projects/projects.service';
export { SecretBox } from './secrets/secret-box';
export { WebhooksService } from './webhooks/webhooks.service';
export type { WebhookReply } from './webhooks/webhooks.service';
export { SeAttestationService } from './attestation/se-attestation.service';
export type { SeAttestationServiceOptions } from './attestation/se-attestation.service';
export { selectEvidenceProvider } from './attestation/evidence-providers';
export type { SelectedEvidenceProvider, TeeKind } from './attestation/evidence-providers';
export { HttpSeVerifierClient } from './attestation/http-se-verifier-client';
export { MemorySeRequestStore, SealedSeRequestStore } from './attestation/se-request-store';
export type { SeRequestStore } from './attestation/se-request-store';
