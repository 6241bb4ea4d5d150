import { SqlSeRequestRepository, type SeRequestRepository } from './attestation/se-request.repository';
import { SqlBuilderRepository, type BuilderRepository } from './builders/builder.repository';
import { SqlBuildRepository, type BuildRepository } from './builds/build.repository';
import { SqlBundleRepository, type BundleRepository } from './bundles/bundle.repository';
import { SqlLogRepository, type LogRepository } from './logs/log.repository';
import { SqlProjectRepository, type ProjectRepository } from './projects/project.repository';
import { migrate } from './migrations/migrate';
import { createPgliteClient } from './sql/pglite-client';
import { createPostgresClient } from './sql/postgres-client';
import type { SqlClient } from './sql/sql-client';
import { StoreError } from './store.error';
import { SqlTokenRepository, type TokenRepository } from './tokens/token.repository';
import { SqlDeliveryRepository, type DeliveryRepository } from './webhooks/delivery.repository';

/** Where the store lives: PostgreSQL when `databaseUrl` is set, otherwise embedded PGlite. */
export interface OpenStoreOptions {
  /** postgres:// URL; takes precedence over dataDir. */
  databaseUrl?: string;
  /** PGlite directory when databaseUrl is unset; undefined = in-memory (lost on close). */
  dataDir?: string;
  /** Pool size for PostgreSQL (default 10). */
  maxConnections?: number;
}

/** The migrated database and its repositories. */
export interface Store {
  kind: 'postgres' | 'pglite';
  builds: BuildRepository;
  logs: LogRepository;
  bundles: BundleRepository;
  builders: BuilderRepository;
  tokens: TokenRepository;
  projects: ProjectRepository;
  deliveries: DeliveryRepository;
  seRequests: SeRequestRepository;
  /** Resolves when the database answers a trivial query (health checks). */
  ping(): Promise<void>;
  /** Closes the connections. */
  close(): Promise<void>;
}

/** Connects, applies pending migrations and returns the repositories; a failed connect throws StoreError('DATABASE_UNAVAILABLE'). */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const kind = options.databaseUrl === undefined ? 'pglite' : 'postgres';
  let client: SqlClient;
  try {
    client =
      options.databaseUrl === undefined
        ? await createPgliteClient(options.dataDir)
        : createPostgresClient(options.databaseUrl, { maxConnections: options.maxConnections });
  } catch (error) {
    throw new StoreError('DATABASE_UNAVAILABLE', `cannot open the ${kind} database`, { cause: error });
  }
  try {
    await client.query('SELECT 1');
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new StoreError('DATABASE_UNAVAILABLE', `cannot reach the ${kind} database`, { cause: error });
  }
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return createStore(kind, client);
}

/** Wraps an already migrated SqlClient as a Store (tests and custom adapters). */
export function createStore(kind: Store['kind'], client: SqlClient): Store {
  return {
    kind,
    builds: new SqlBuildRepository(client),
    logs: new SqlLogRepository(client),
    bundles: new SqlBundleRepository(client),
    builders: new SqlBuilderRepository(client),
    tokens: new SqlTokenRepository(client),
    projects: new SqlProjectRepository(client),
    deliveries: new SqlDeliveryRepository(client),
    seRequests: new SqlSeRequestRepository(client),
    ping: async () => {
      await client.query('SELECT 1');
    },
    close: () => client.close(),
  };
}
