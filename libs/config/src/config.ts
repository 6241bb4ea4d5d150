import { hostname } from 'node:os';
import { resolve } from 'node:path';

import { DomainError } from '@secure-build/common';

import { envSchema } from './config.schema';

/** Service configuration, validated once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  publicUrl: string;
  redisUrl: string;
  /** PostgreSQL URL; undefined selects the embedded PGlite store under dataDir */
  databaseUrl?: string;
  dataDir: string;
  tee: 'simulated' | 'tdx' | 'se';
  adminToken?: string;
  /** AES-256 key sealing webhook secrets; undefined → a key file under dataDir (embedded mode only) */
  secretsKey?: Buffer;
  allowLocalRepos: boolean;
  insecureNoSandbox: boolean;
  rebuild: boolean;
  /** take a second quote per build binding its statement */
  perBuildEvidence: boolean;
  /** YAML file with the TEE requirements a worker must meet to take builds (see docs/trust-model.md) */
  builderPolicyFile?: string;
  /** Intel PCS or a PCCS, for TDX collateral (default: Intel PCS) */
  pccsUrl?: string;
  /** the API's IBM SE attestation service (all three files set → endpoints enabled) */
  seService?: { hostKeyFiles: string[]; headerFile: string; verifierKeyFile: string };
  /** an SE worker's way to its attestation service */
  seWorker?: { attestationUrl?: string; token?: string; pvattestPath?: string };
  worker: { concurrency: number; id: string; lockDurationMs: number; stalledIntervalMs: number };
  queue: { prefix: string; attempts: number };
  sweeper: { intervalMs: number; graceMs: number };
  rateLimit: { perSecond: number; burst: number };
  /** registries the worker pushes to and pulls base images from */
  registry: {
    /** Docker/Podman config.json with credentials per host */
    authFile?: string;
    /** registries reached over plain http (a loopback test registry) */
    plainHttp: string[];
  };
  shutdownTimeoutMs: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

/** Raised at boot when the environment is invalid; lists every problem at once. */
export class ConfigError extends DomainError<'CONFIG_INVALID'> {}

/** Parses the environment (the only place it is read) into an AppConfig. */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const e = parsed.data;
  if (e.DATABASE_URL && !e.SECURE_BUILD_SECRETS_KEY) {
    throw new ConfigError(
      'CONFIG_INVALID',
      'invalid configuration:\n  SECURE_BUILD_SECRETS_KEY: is required with DATABASE_URL (every API instance must seal and open webhook secrets with the same key; generate one with `openssl rand -hex 32`)',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (
      e.SECURE_BUILD_PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`
    ).replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(cwd, e.SECURE_BUILD_DATA_DIR),
    tee: e.SECURE_BUILD_TEE,
    adminToken: e.SECURE_BUILD_ADMIN_TOKEN,
    secretsKey: e.SECURE_BUILD_SECRETS_KEY === undefined ? undefined : decodeKey(e.SECURE_BUILD_SECRETS_KEY),
    allowLocalRepos: e.SECURE_BUILD_ALLOW_LOCAL_REPOS,
    insecureNoSandbox: e.SECURE_BUILD_INSECURE_NO_SANDBOX,
    rebuild: e.SECURE_BUILD_REBUILD,
    perBuildEvidence: e.SECURE_BUILD_PER_BUILD_EVIDENCE,
    pccsUrl: e.SECURE_BUILD_PCCS_URL,
    seService:
      e.SECURE_BUILD_SE_HOST_KEYS && e.SECURE_BUILD_SE_HEADER && e.SECURE_BUILD_SE_VERIFIER_KEY
        ? {
            hostKeyFiles: e.SECURE_BUILD_SE_HOST_KEYS.split(',').map((f) => resolve(cwd, f.trim())),
            headerFile: resolve(cwd, e.SECURE_BUILD_SE_HEADER),
            verifierKeyFile: resolve(cwd, e.SECURE_BUILD_SE_VERIFIER_KEY),
          }
        : undefined,
    seWorker: {
      attestationUrl: e.SECURE_BUILD_ATTESTATION_URL,
      token: e.SECURE_BUILD_WORKER_TOKEN,
      pvattestPath: e.SECURE_BUILD_PVATTEST,
    },
    builderPolicyFile:
      e.SECURE_BUILD_BUILDER_POLICY === undefined ? undefined : resolve(cwd, e.SECURE_BUILD_BUILDER_POLICY),
    worker: {
      concurrency: e.SECURE_BUILD_WORKER_CONCURRENCY,
      id: e.SECURE_BUILD_WORKER_ID ?? `${hostname()}-${process.pid}`,
      lockDurationMs: e.SECURE_BUILD_LOCK_DURATION_MS,
      stalledIntervalMs: e.SECURE_BUILD_STALLED_INTERVAL_MS,
    },
    queue: { prefix: e.SECURE_BUILD_QUEUE_PREFIX, attempts: e.SECURE_BUILD_JOB_ATTEMPTS },
    sweeper: { intervalMs: e.SECURE_BUILD_SWEEP_INTERVAL_MS, graceMs: e.SECURE_BUILD_SWEEP_GRACE_MS },
    rateLimit: { perSecond: e.SECURE_BUILD_RATE_LIMIT_RPS, burst: e.SECURE_BUILD_RATE_LIMIT_BURST },
    registry: {
      authFile: e.REGISTRY_AUTH_FILE === undefined ? undefined : resolve(cwd, e.REGISTRY_AUTH_FILE),
      plainHttp: e.SECURE_BUILD_REGISTRY_PLAIN_HTTP?.split(',') ?? [],
    },
    shutdownTimeoutMs: e.SECURE_BUILD_SHUTDOWN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  };
}

function decodeKey(value: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
}
