import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(min).max(max);
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(' or ')} URL`,
  );

/** Environment variables the service reads, with defaults; README "Configuration" documents each. */
export const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  SECURE_BUILD_DATA_DIR: z.string().min(1).default('.secure-build'),
  SECURE_BUILD_TEE: z.enum(['simulated', 'tdx', 'se']).default('simulated'),
  SECURE_BUILD_SECRETS_KEY: z
    .string()
    .refine(
      (v) => /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64').length === 32,
      'must be 32 bytes, as 64 hex or base64',
    )
    .optional(),
  SECURE_BUILD_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  SECURE_BUILD_ALLOW_LOCAL_REPOS: bool.default(false),
  SECURE_BUILD_INSECURE_NO_SANDBOX: bool.default(false),
  SECURE_BUILD_REBUILD: bool.default(true),
  SECURE_BUILD_PER_BUILD_EVIDENCE: bool.default(false),
  SECURE_BUILD_BUILDER_POLICY: z.string().min(1).optional(),
  SECURE_BUILD_PCCS_URL: url(['http:', 'https:']).optional(),
  SECURE_BUILD_SE_HOST_KEYS: z.string().min(1).optional(),
  SECURE_BUILD_SE_HEADER: z.string().min(1).optional(),
  SECURE_BUILD_SE_VERIFIER_KEY: z.string().min(1).optional(),
  SECURE_BUILD_ATTESTATION_URL: url(['http:', 'https:']).optional(),
  SECURE_BUILD_WORKER_TOKEN: z.string().min(1).optional(),
  SECURE_BUILD_PVATTEST: z.string().min(1).optional(),
  SECURE_BUILD_WORKER_CONCURRENCY: int(1, 64).default(1),
  SECURE_BUILD_WORKER_ID: z.string().min(1).optional(),
  SECURE_BUILD_PUBLIC_URL: url(['http:', 'https:']).optional(),
  SECURE_BUILD_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('secure-build'),
  SECURE_BUILD_JOB_ATTEMPTS: int(1, 20).default(3),
  SECURE_BUILD_LOCK_DURATION_MS: int(1000, 3_600_000).default(30_000),
  SECURE_BUILD_STALLED_INTERVAL_MS: int(1000, 3_600_000).default(30_000),
  SECURE_BUILD_SWEEP_INTERVAL_MS: int(500, 3_600_000).default(15_000),
  SECURE_BUILD_SWEEP_GRACE_MS: int(0, 3_600_000).default(10_000),
  SECURE_BUILD_RATE_LIMIT_RPS: int(1, 1_000_000).default(100),
  SECURE_BUILD_RATE_LIMIT_BURST: int(1, 1_000_000).default(200),
  SECURE_BUILD_SHUTDOWN_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  REGISTRY_AUTH_FILE: z.string().min(1).optional(),
  SECURE_BUILD_REGISTRY_PLAIN_HTTP: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?(,[A-Za-z0-9.-]+(:\d{1,5})?)*$/, 'comma-separated host[:port] list')
    .optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
});
