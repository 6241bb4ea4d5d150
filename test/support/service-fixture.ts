import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { api, ServiceProcess, TEST_ADMIN_TOKEN } from './service-harness';

/** Redis every service test talks to. */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Cleanup steps run in reverse registration order; every step runs even when an earlier one
 * throws, so afterAll leaves no processes, databases, queues or temp dirs behind.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => unknown }[] = [];

  add(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  /** A temp dir removed on cleanup. */
  tempDir(prefix = 'sb-service-test-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.add(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async run(): Promise<void> {
    const errors: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        errors.push(`${step.name}: ${(error as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`cleanup failed:\n  ${errors.join('\n  ')}`);
  }
}

/** Stops a service: SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
export async function stopService(service: ServiceProcess | undefined, graceMs = 15_000): Promise<void> {
  if (!service) return;
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await service.stop('SIGTERM');
  } finally {
    clearTimeout(timer);
  }
}

/** Deletes every Redis key under a suite's queue prefix. */
export async function deleteQueueKeys(prefix: string, redisUrl = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Creates an API token with the admin token; returns its plaintext. */
export async function createToken(base: string, name: string, scopes: string[]): Promise<string> {
  const res = await api<{ token: string; scopes: string[] }>(base, 'POST', '/v1/tokens', {
    token: TEST_ADMIN_TOKEN,
    body: { name, scopes },
  });
  if (res.status !== 201) throw new Error(`POST /v1/tokens: ${res.status} ${res.text}`);
  return res.body.token;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls GET /v1/builds/{id} until the build has `status`. */
export function waitForStatus(base: string, token: string, id: string, status: string, timeoutMs = 60_000) {
  return waitFor(
    `build ${id} to be ${status}`,
    async () => {
      const { body } = await api<{ status: string; [key: string]: unknown }>(base, 'GET', `/v1/builds/${id}`, {
        token,
      });
      if (body.status === status) return body;
      if (['succeeded', 'failed', 'cancelled'].includes(body.status)) {
        throw new Error(`build ${id} ended ${body.status} while waiting for ${status}: ${JSON.stringify(body)}`);
      }
      return undefined;
    },
    timeoutMs,
  );
}

/** PIDs of processes whose command line contains `marker` (excluding pgrep itself). */
export function processesMatching(marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Kills leftover processes of a test recipe (e.g. a sandbox orphaned by a SIGKILLed worker). */
export function killProcessesMatching(marker: string): void {
  for (const pid of processesMatching(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Writes a verification policy for simulated evidence and one repository; returns its path. */
export function writePolicy(dir: string, repository: string): string {
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, `allowSimulated: true\nrepositories: ["${repository}"]\nrequireReproducible: true\n`);
  return path;
}

/** A recipe whose build writes the fixture's output, prints `marker`, then sleeps `seconds`. */
export function sleepingBuildScript(marker: string, seconds: number): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'rm -rf dist && mkdir -p dist/bin',
    "printf '#!/bin/sh\\necho ok\\n' > dist/bin/server && chmod 755 dist/bin/server",
    `echo "started ${marker}"`,
    // the marker is in the sleeping command line so pgrep can find (or miss) the sandboxed process
    `sh -c 'sleep ${seconds}; : ${marker}'`,
    'echo "built wallet-signer"',
    '',
  ].join('\n');
}

/** One server-sent event. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads a text/event-stream response to its end (or until `timeoutMs`) and parses its events. */
export async function readEventStream(
  url: string,
  token: string,
  timeoutMs = 60_000,
): Promise<{ status: number; contentType: string; events: SseEvent[] }> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      return {
        event: field('event') ?? 'message',
        id: field('id'),
        data: lines
          .filter((l) => l.startsWith('data: ') || l === 'data:')
          .map((l) => l.slice(6))
          .join('\n'),
      };
    });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', events };
}
