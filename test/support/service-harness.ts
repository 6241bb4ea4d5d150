import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const ENTRY = {
  api: ['dist/apps/api/src/main.js'],
  combined: ['dist/apps/api/src/main.js', '--with-worker'],
  worker: ['dist/apps/worker/src/main.js'],
} as const;

/** A Secure Build process started by a test. */
export interface ServiceProcess {
  /** base URL of the API (api and combined only) */
  url: string;
  child: ChildProcess;
  /** everything the process printed so far */
  output(): string;
  /** sends `signal` and waits for the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Admin token every test service is started with. */
export const TEST_ADMIN_TOKEN = 'sbt_test_admin_token_for_end_to_end_tests';

/**
 * Environment for one isolated service: its own queue prefix (so parallel suites never share jobs),
 * data dir and admin token; short lock, stall and sweep intervals so fault tests run in seconds.
 */
export function serviceEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const dataDir = mkdtempSync(resolve(tmpdir(), 'sb-service-'));
  chmodSync(dataDir, 0o711);
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: 'redis://127.0.0.1:6379',
    SECURE_BUILD_DATA_DIR: dataDir,
    SECURE_BUILD_QUEUE_PREFIX: `sbtest-${randomBytes(4).toString('hex')}`,
    SECURE_BUILD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SECURE_BUILD_SECRETS_KEY: randomBytes(32).toString('hex'),
    SECURE_BUILD_ALLOW_LOCAL_REPOS: 'true',
    SECURE_BUILD_LOCK_DURATION_MS: '4000',
    SECURE_BUILD_STALLED_INTERVAL_MS: '2000',
    SECURE_BUILD_SWEEP_INTERVAL_MS: '1000',
    SECURE_BUILD_SWEEP_GRACE_MS: '1500',
    SECURE_BUILD_SHUTDOWN_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
}

/** Starts the API, a worker, or both in one process (npm start), and waits until it is ready. */
export function startService(kind: keyof typeof ENTRY, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...ENTRY[kind]], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      PGPASSWORD: process.env.PGPASSWORD ?? '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const service = (url: string): ServiceProcess => ({
    url,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  });
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${kind} did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const api = /secure-build API listening on (http:\/\/\S+)/.exec(output);
      if (api) {
        clearTimeout(timer);
        ready(service(api[1].replace('[::1]', '127.0.0.1')));
      } else if (kind === 'worker' && output.includes('consuming builds')) {
        clearTimeout(timer);
        ready(service(''));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`${kind} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** JSON request helper against a started API. */
export async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; body: T; headers: Headers; text: string }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text
  }
  return { status: response.status, body: body as T, headers: response.headers, text };
}

/** Polls GET /v1/builds/{id} until the build reaches a terminal status. */
export async function waitForBuild(
  base: string,
  token: string,
  id: string,
  timeoutMs = 120_000,
): Promise<{ status: string; [key: string]: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api<{ status: string }>(base, 'GET', `/v1/builds/${id}`, { token });
    if (['succeeded', 'failed', 'cancelled'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`build ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
