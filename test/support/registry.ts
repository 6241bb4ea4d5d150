import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hashSync } from 'bcryptjs';

/** Debian's distribution v2.8 binary (package docker-registry). */
const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** A private docker-registry on 127.0.0.1 for one test file. */
export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** Storage root, config and htpasswd live under here; removed on stop. */
  rootDir: string;
  /** Everything the registry printed so far (access log, errors). */
  output(): string;
  /** Kills the registry (SIGTERM, then SIGKILL) and removes `rootDir`. */
  stop(): Promise<void>;
}

/** Options of {@link startTestRegistry}. */
export interface TestRegistryOptions {
  /** Require Basic auth with this user (bcrypt htpasswd, the only hash the registry accepts). */
  htpasswd?: { username: string; password: string };
}

/**
 * Starts `docker-registry serve` with a per-test config (build-and-oci.md §7): loopback only, a
 * free port, temporary storage, deletes enabled, optional htpasswd auth. Resolves once GET /v2/
 * answers (200, or 401 with auth).
 */
export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(`${REGISTRY_BINARY} is missing: run scripts/setup.sh (installs docker-registry, skopeo and umoci)`);
  }
  let lastError: unknown;
  // The free port is found by binding port 0 and closing; another process may take it first.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(options: TestRegistryOptions): Promise<TestRegistry> {
  const rootDir = mkdtempSync(join(tmpdir(), 'sb-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const auth =
    options.htpasswd === undefined
      ? ''
      : `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(rootDir, 'htpasswd')}\n`;
  if (options.htpasswd !== undefined) {
    const { username, password } = options.htpasswd;
    writeFileSync(join(rootDir, 'htpasswd'), `${username}:${hashSync(password, 10)}\n`, { mode: 0o600 });
  }
  const configPath = join(rootDir, 'config.yml');
  writeFileSync(
    configPath,
    [
      'version: 0.1',
      'log: { level: warn }',
      'storage:',
      `  filesystem: { rootdirectory: ${join(rootDir, 'storage')} }`,
      '  delete: { enabled: true }',
      'http:',
      `  addr: ${host}`,
      '  secret: test-only-secret',
      auth,
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], {
    env: { PATH: '/usr/bin:/bin', HOME: rootDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    await kill(child, exited);
    rmSync(rootDir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(host, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, rootDir, output: () => output, stop };
}

async function waitUntilAnswering(host: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    try {
      const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry on ${host} did not answer within 20 s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
