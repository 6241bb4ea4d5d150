export { SqlBuilderRepository } from './builders/builder.repository';
export type { BuilderKeyInput, BuilderKeyRecord, BuilderRepository } from './builders/builder.repository';
export { MAX_BUILD_PAGE_SIZE, SqlBuildRepository } from './builds/build.repository';
export type { BuildRepository } from './builds/build.repository';
export { BUILD_STATUSES } from './builds/build.type';
export type {
  BuildPage,
  BuildRecord,
  BuildStatus,
  BundleSubject,
  CancelBuildResult,
  CompleteBuildInput,
  CompleteBuildResult,
  CreateBuildInput,
  ListBuildsFilter,
  StageEvent,
  StageEventInput,
} from './builds/build.type';
export { SqlBundleRepository } from './bundles/bundle.repository';
export type { BundleRepository, StoredBundle, SubjectBundle } from './bundles/bundle.repository';
export { SqlLogRepository } from './logs/log.repository';
export type { LogChunk, LogRepository } from './logs/log.repository';
export { migrate } from './migrations/migrate';
export type { MigrateResult } from './migrations/migrate';
export type { Migration } from './migrations/migration';
export { MIGRATIONS } from './migrations/migrations';
export { createPgliteClient } from './sql/pglite-client';
export { createPostgresClient } from './sql/postgres-client';
export type { PostgresClientOptions } from './sql/postgres-client';
export type { SqlClient, SqlResult } from './sql/sql-client';
export { createStore, openStore } from './store';
export type { OpenStoreOptions, Store } from './store';
export { StoreError } from './store.error';
export type { StoreErrorCode } from './store.error';
export { ALL_SCOPES, isScope } from './tokens/scope';
export type { Scope } from './tokens/scope';
export { SqlTokenRepository, TOKEN_PREFIX } from './tokens/token.repository';
export type { TokenPrincipal, TokenRecord, TokenRepository } from './tokens/token.repository';
export { createThrowawayDatabase } from './testing/test-database';
export type { ThrowawayDatabase } from './testing/test-database';
export { SqlProjectRepository } from './projects/project.repository';
export type { ProjectInput, ProjectRecord, ProjectRepository } from './projects/project.repository';
export { SqlDeliveryRepository } from './webhooks/delivery.repository';
export type { DeliveryInput, DeliveryRepository, DeliveryResult } from './webhooks/delivery.repository';
export { SqlSeRequestRepository } from './attestation/se-request.repository';
export type { SeRequestRepository } from './attestation/se-request.repository';
