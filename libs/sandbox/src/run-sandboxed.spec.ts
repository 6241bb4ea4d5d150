import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type TestContext } from 'vitest';

import { detectSandbox, type SandboxDetection } from './detect-sandbox';
import { runSandboxed, type SandboxRunOptions } from './run-sandboxed';
import { SandboxError, type SandboxErrorCode } from './sandbox.error';

const SDE = 1700000000;
let root: string;
let sourceDir: string;
let detection: SandboxDetection;
let counter = 0;

function workDir(): string {
  counter += 1;
  return join(root, `work-${counter}`);
}

function options(overrides: Partial<SandboxRunOptions>): SandboxRunOptions {
  return {
    sourceDir,
    workDir: workDir(),
    command: 'true',
    env: {},
    sourceDateEpoch: SDE,
    timeoutMs: 30_000,
    mode: 'bubblewrap',
    ...overrides,
  };
}

/** Runs a build and returns its result plus everything it printed. */
async function run(overrides: Partial<SandboxRunOptions>) {
  let stdout = '';
  let stderr = '';
  const result = await runSandboxed(
    options({
      ...overrides,
      onLog: (chunk, stream) => {
        if (stream === 'stdout') stdout += chunk;
        else stderr += chunk;
      },
    }),
  );
  return { result, stdout, stderr };
}

async function rejection(promise: Promise<unknown>, code: SandboxErrorCode): Promise<SandboxError> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxError);
  expect((err as SandboxError).code, (err as Error).message).toBe(code);
  return err as SandboxError;
}

/** Skips (visibly) when bubblewrap cannot run here. */
function requireBwrap(ctx: TestContext): void {
  if (!detection.available) ctx.skip(`bubblewrap unavailable: ${detection.reason}`);
}

function parseEnv(output: string): Record<string, string> {
  return Object.fromEntries(
    output
      .split('\n')
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

async function tcpServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    // The probe may close before reading the greeting; a reset then is expected, not a failure.
    socket.on('error', () => undefined);
    socket.end('hello\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, connections: () => connections };
}

/** Shell snippet printing CONNECTED or REFUSED for a TCP connect to 127.0.0.1:port (bash /dev/tcp). */
function connectProbe(port: number): string {
  return `if bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null; then echo CONNECTED; else echo REFUSED; fi`;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sandbox-spec-'));
  chmodSync(root, 0o755);
  sourceDir = join(root, 'source');
  mkdirSync(join(sourceDir, 'sub/deep'), { recursive: true });
  mkdirSync(join(sourceDir, '.git'));
  writeFileSync(join(sourceDir, '.git/config'), '[core]\n');
  mkdirSync(join(sourceDir, 'vendor/lib'), { recursive: true });
  writeFileSync(join(sourceDir, 'vendor/lib/.git'), 'gitdir: ../../.git/modules/lib\n');
  writeFileSync(join(sourceDir, 'hello.txt'), 'hello\n', { mode: 0o644 });
  writeFileSync(join(sourceDir, 'build.sh'), '#!/bin/sh\necho built\n', { mode: 0o755 });
  writeFileSync(join(sourceDir, 'sub/deep/data.bin'), 'data', { mode: 0o600 });
  symlinkSync('hello.txt', join(sourceDir, 'link-to-hello'));
  symlinkSync('/etc/shadow', join(sourceDir, 'absolute-link'));
  detection = await detectSandbox();
  if (!detection.available) {
    console.warn(`\n*** bubblewrap tests SKIPPED: ${detection.reason} ***\n`);
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('detectSandbox', () => {
  it('reports bubblewrap and its version when usable', (ctx) => {
    requireBwrap(ctx);
    expect(detection).toEqual({ available: true, kind: 'bubblewrap', version: expect.stringMatching(/^\d+\.\d+/) });
  });

  it('reports unavailability when bwrap is missing', async () => {
    const result = await detectSandbox({ bwrapPath: '/nonexistent/bwrap' });
    expect(result).toEqual({ available: false, reason: '/nonexistent/bwrap not found (bubblewrap is not installed)' });
  });
});

describe('runSandboxed (bubblewrap)', () => {
  it('gives the build exactly the allowed environment, uid 1000, hostname sandbox and umask 022', async (ctx) => {
    requireBwrap(ctx);
    vi.stubEnv('SECURE_BUILD_CANARY', 'must-not-leak');
    const { result, stdout } = await run({
      command: 'env; echo "--- id=$(id -u):$(id -g) host=$(hostname) umask=$(umask) home=$(test -w "$HOME" && echo w)"',
      env: { RECIPE_VAR: 'value with spaces', npm_config_cache: '/tmp/npm' },
    });
    const env = parseEnv(stdout);
    expect(env).toEqual({
      SOURCE_DATE_EPOCH: String(SDE),
      TZ: 'UTC',
      LC_ALL: 'C.UTF-8',
      HOME: '/home/build',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      TMPDIR: '/tmp',
      RECIPE_VAR: 'value with spaces',
      npm_config_cache: '/tmp/npm',
      PWD: '/src',
      ...(env.SHLVL === undefined ? {} : { SHLVL: env.SHLVL }),
    });
    expect(stdout).not.toContain('must-not-leak');
    expect(stdout).toContain('id=1000:1000 host=sandbox umask=0022 home=w');
    expect(result).toEqual({
      treeDir: expect.stringMatching(/work-\d+\/src$/),
      exitCode: 0,
      durationMs: expect.any(Number),
      sandbox: {
        kind: 'bubblewrap',
        version: detection.available ? detection.version : '',
        network: 'none',
        mountPath: '/src',
      },
    });
  });

  it('cannot connect to a TCP server on the host loopback', async (ctx) => {
    requireBwrap(ctx);
    const { server, port, connections } = await tcpServer();
    try {
      const { stdout } = await run({ command: connectProbe(port) });
      expect(stdout.trim()).toBe('REFUSED');
      expect(connections()).toBe(0);

      // Control: the same probe reaches the server without the sandbox.
      const insecure = await run({ command: connectProbe(port), mode: 'insecure-no-sandbox' });
      expect(insecure.stdout.trim()).toBe('CONNECTED');
      expect(connections()).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('sees no host secrets, home directories, /work or host /tmp', async (ctx) => {
    requireBwrap(ctx);
    const keyDir = mkdtempSync(join(tmpdir(), 'sandbox-key-'));
    const keyFile = join(keyDir, 'signing.key');
    writeFileSync(keyFile, 'SECRET-KEY-MATERIAL', { mode: 0o644 });
    try {
      const { stdout } = await run({
        command: [
          `cat ${keyFile} 2>/dev/null || echo no-key`,
          'for p in /root /work /home/cloudsdk /etc/shadow /etc/ssh /var /run /sys /opt; do test -e $p && echo "visible $p"; done',
          `test -e ${sourceDir} && echo visible-source`,
          'echo "tmp=[$(ls -A /tmp)]"',
          'echo "root=[$(ls / | tr "\\n" " ")]"',
          'echo "etc=[$(ls /etc | tr "\\n" " ")]"',
        ].join('; '),
      });
      expect(stdout).not.toContain('SECRET-KEY-MATERIAL');
      expect(stdout).toContain('no-key');
      expect(stdout).not.toContain('visible');
      expect(stdout).toContain('tmp=[]');
      expect(stdout).toContain('root=[bin dev etc home lib lib64 proc sbin src tmp usr ]');
      expect(stdout).toContain('etc=[alternatives group hosts ld.so.cache nsswitch.conf passwd ]');
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it('cannot write outside its tree, but can write the tree, /tmp and HOME', async (ctx) => {
    requireBwrap(ctx);
    const { result, stdout } = await run({
      command: [
        'for p in /usr/pwned /etc/passwd /newdir /bin/pwned /etc/alternatives/pwned; do (echo x > $p) 2>/dev/null && echo "wrote $p"; done',
        'echo built > out.txt && mkdir -p dist && echo ok > dist/a && echo tree-ok',
        'echo t > /tmp/t && echo h > "$HOME/h" && echo scratch-ok',
      ].join('; '),
    });
    expect(stdout).not.toContain('wrote');
    expect(stdout).toContain('tree-ok');
    expect(stdout).toContain('scratch-ok');
    expect(readFileSync(join(result.treeDir, 'out.txt'), 'utf8')).toBe('built\n');
    expect(existsSync('/usr/pwned')).toBe(false);
    if (process.getuid?.() === 0) expect(lstatSync(join(result.treeDir, 'out.txt')).uid).toBe(1000); // host user, not root
    expect(lstatSync(join(result.treeDir, 'dist/a')).mode & 0o777).toBe(0o644);
  });

  it('builds a fresh writable copy without .git that preserves modes and symlinks', async (ctx) => {
    requireBwrap(ctx);
    const { result, stdout } = await run({
      command: [
        'test -e .git && echo has-git',
        'test -e vendor/lib/.git && echo has-sub-git',
        'echo changed >> hello.txt && rm build.sh && echo new > new.txt',
        'readlink link-to-hello',
        'cat link-to-hello',
      ].join('; '),
    });
    expect(stdout).not.toContain('has-git');
    expect(stdout).not.toContain('has-sub-git');
    expect(stdout).toContain('hello.txt\nhello\nchanged\n');
    expect(readFileSync(join(sourceDir, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(existsSync(join(sourceDir, 'build.sh'))).toBe(true);
    expect(existsSync(join(sourceDir, 'new.txt'))).toBe(false);
    expect(readdirSync(result.treeDir).sort()).toEqual(
      ['absolute-link', 'hello.txt', 'link-to-hello', 'new.txt', 'sub', 'vendor'].sort(),
    );
    expect(readlinkSync(join(result.treeDir, 'absolute-link'))).toBe('/etc/shadow');
    expect(lstatSync(join(result.treeDir, 'sub/deep/data.bin')).mode & 0o777).toBe(0o600);
  });

  it('inherits no file descriptors beyond stdio', async (ctx) => {
    requireBwrap(ctx);
    const { stdout } = await run({ command: "ls /proc/self/fd | tr '\\n' ' '" });
    expect(stdout).toBe('0 1 2 3 '); // 3 is the directory ls is reading
  });

  it('honours mountPath', async (ctx) => {
    requireBwrap(ctx);
    const { result, stdout } = await run({ command: 'pwd; echo "$PWD"', mountPath: '/build/variant-b' });
    expect(stdout).toBe('/build/variant-b\n/build/variant-b\n');
    expect(result.sandbox).toMatchObject({ mountPath: '/build/variant-b' });
  });

  it('runs argv commands without a shell', async (ctx) => {
    requireBwrap(ctx);
    const { stdout } = await run({ command: ['/bin/echo', 'a  b', '$HOME'] });
    expect(stdout).toBe('a  b $HOME\n');
  });

  it('streams output as it arrives', async (ctx) => {
    requireBwrap(ctx);
    const chunks: { at: number; stream: string; text: string }[] = [];
    const started = Date.now();
    await runSandboxed(
      options({
        command: 'echo first; echo oops >&2; sleep 1; echo second',
        onLog: (text, stream) => chunks.push({ at: Date.now() - started, stream, text }),
      }),
    );
    const finished = Date.now() - started;
    const first = chunks.find((c) => c.text.includes('first'));
    expect(first?.stream).toBe('stdout');
    expect(chunks.some((c) => c.stream === 'stderr' && c.text.includes('oops'))).toBe(true);
    expect(finished - (first?.at ?? finished)).toBeGreaterThanOrEqual(700);
  });

  it('kills the whole build tree on timeout with BUILD_TIMEOUT', async (ctx) => {
    requireBwrap(ctx);
    const started = Date.now();
    const build = rejection(
      runSandboxed(options({ command: 'sleep 987.25 & sleep 987.25 & wait', timeoutMs: 1500 })),
      'BUILD_TIMEOUT',
    );
    await vi.waitFor(() => expect(processesMatching('sleep 987.25')).toHaveLength(2), { timeout: 1400 });
    const err = await build;
    expect(err.message).toBe('build exceeded its 1500 ms timeout and was killed');
    expect(Date.now() - started).toBeLessThan(6000);
    await vi.waitFor(() => expect(processesMatching('sleep 987.25')).toEqual([]), { timeout: 3000 });
  });

  it('reports a failing command as BUILD_FAILED with its exit code', async (ctx) => {
    requireBwrap(ctx);
    const err = await rejection(runSandboxed(options({ command: 'echo nope >&2; exit 3' })), 'BUILD_FAILED');
    expect(err.message).toBe('build command exited with code 3');
    expect(err.details).toEqual({ exitCode: 3, signal: null });

    const killed = await rejection(runSandboxed(options({ command: 'kill -SEGV $$' })), 'BUILD_FAILED');
    expect(killed.message).toBe('build command was killed by signal SIGSEGV (exit code 139)');
  });

  it('enforces maxFileBytes', async (ctx) => {
    requireBwrap(ctx);
    const { result, stdout, stderr } = await run({
      command:
        'head -c 3000000 /dev/zero > big.bin; echo "status=$?"; head -c 1000 /dev/zero > small.bin && echo small-ok',
      limits: { maxFileBytes: 1_000_000 },
    });
    expect(stdout, stderr).toContain('status=153'); // head was killed by SIGXFSZ (128 + 25)
    expect(stdout).toContain('small-ok');
    expect(lstatSync(join(result.treeDir, 'big.bin')).size).toBeLessThanOrEqual(1_000_000);
  });

  it('enforces memoryBytes', async (ctx) => {
    requireBwrap(ctx);
    if (!existsSync('/usr/bin/python3')) ctx.skip('needs python3 in the toolchain');
    const { stdout } = await run({
      command: `python3 -c 'bytearray(512 * 1024 * 1024)' 2>/dev/null || echo alloc-failed; python3 -c 'bytearray(1024)' && echo small-ok`,
      limits: { memoryBytes: 256 * 1024 * 1024 },
    });
    expect(stdout).toBe('alloc-failed\nsmall-ok\n');
  });

  it('enforces maxProcesses', async (ctx) => {
    requireBwrap(ctx);
    let output = '';
    const err = await rejection(
      runSandboxed(
        options({
          command: 'i=0; while [ $i -lt 64 ]; do sleep 2 & i=$((i+1)); done; wait; echo all-forked',
          limits: { maxProcesses: 16 },
          onLog: (chunk) => (output += chunk),
        }),
      ),
      'BUILD_FAILED',
    );
    expect(err.message).toMatch(/exited with code/);
    expect(output).toMatch(/Cannot fork/);
    expect(output).not.toContain('all-forked');
  });

  it('reports SANDBOX_FAILED when bubblewrap cannot set up the sandbox', async (ctx) => {
    requireBwrap(ctx);
    const hidden = mkdtempSync('/var/tmp/sandbox-spec-private-'); // 0700 root: the sandbox user cannot reach it
    try {
      mkdirSync(join(hidden, 'toolchain'));
      const err = await rejection(
        runSandboxed(options({ toolchainDirs: ['/usr', join(hidden, 'toolchain')] })),
        'SANDBOX_FAILED',
      );
      expect(err.message).toMatch(/^bubblewrap could not start the build: bwrap: /);
    } finally {
      rmSync(hidden, { recursive: true, force: true });
    }
  });

  it('refuses a workDir the sandbox user cannot reach', async (ctx) => {
    requireBwrap(ctx);
    if (process.getuid?.() !== 0) ctx.skip('only meaningful when the worker runs as root');
    const hidden = mkdtempSync(join(root, 'private-'));
    const err = await rejection(runSandboxed(options({ workDir: join(hidden, 'work') })), 'INVALID_OPTIONS');
    expect(err.message).toMatch(/cannot search .*private-/);
  });

  it('fails with SANDBOX_UNAVAILABLE when bwrap is missing, naming the remedies', async () => {
    const dir = workDir();
    const err = await rejection(
      runSandboxed(options({ workDir: dir, bwrapPath: '/nonexistent/bwrap' })),
      'SANDBOX_UNAVAILABLE',
    );
    expect(err.message).toContain('apt-get install bubblewrap');
    expect(err.message).toContain('--insecure-no-sandbox for development only');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('runSandboxed (insecure-no-sandbox)', () => {
  it('runs with the same clean environment in workDir/src and reports itself as insecure', async () => {
    vi.stubEnv('SECURE_BUILD_CANARY', 'must-not-leak');
    const dir = workDir();
    const { result, stdout } = await run({
      workDir: dir,
      mode: 'insecure-no-sandbox',
      command: 'env; echo "--- umask=$(umask)"; test -e .git && echo has-git; echo out > out.txt',
      env: { RECIPE_VAR: 'x' },
    });
    const env = parseEnv(stdout);
    expect(env).toMatchObject({
      SOURCE_DATE_EPOCH: String(SDE),
      TZ: 'UTC',
      LC_ALL: 'C.UTF-8',
      HOME: join(dir, 'home'),
      TMPDIR: join(dir, 'tmp'),
      PATH: '/usr/local/bin:/usr/bin:/bin',
      RECIPE_VAR: 'x',
      PWD: join(dir, 'src'),
    });
    expect(Object.keys(env).sort()).toEqual(
      [
        'HOME',
        'LC_ALL',
        'PATH',
        'PWD',
        'RECIPE_VAR',
        'SOURCE_DATE_EPOCH',
        'TMPDIR',
        'TZ',
        ...(env.SHLVL ? ['SHLVL'] : []),
      ].sort(),
    );
    expect(stdout).not.toContain('must-not-leak');
    expect(stdout).toContain('umask=0022');
    expect(stdout).not.toContain('has-git');
    expect(result).toMatchObject({ treeDir: join(dir, 'src'), exitCode: 0, sandbox: { kind: 'none', insecure: true } });
    expect(readFileSync(join(dir, 'src/out.txt'), 'utf8')).toBe('out\n');
  });

  it('applies resource limits too', async () => {
    const { result, stdout } = await run({
      mode: 'insecure-no-sandbox',
      command: 'head -c 3000000 /dev/zero > big.bin; echo "status=$?"',
      limits: { maxFileBytes: 1_000_000 },
    });
    expect(stdout).toBe('status=153\n');
    expect(lstatSync(join(result.treeDir, 'big.bin')).size).toBeLessThanOrEqual(1_000_000);
  });

  it('applies the timeout and exit-code handling too', async () => {
    await rejection(
      runSandboxed(options({ mode: 'insecure-no-sandbox', command: 'sleep 986.5 & sleep 986.5', timeoutMs: 1000 })),
      'BUILD_TIMEOUT',
    );
    await vi.waitFor(() => expect(processesMatching('sleep 986.5')).toEqual([]), { timeout: 3000 });
    const err = await rejection(
      runSandboxed(options({ mode: 'insecure-no-sandbox', command: 'exit 7' })),
      'BUILD_FAILED',
    );
    expect(err.details).toEqual({ exitCode: 7, signal: null });
  });
});

describe('runSandboxed option validation', () => {
  it.each(['1ABC', 'A-B', '', 'A B', 'A=B', 'é', 'PATH', 'SOURCE_DATE_EPOCH', 'HOME', 'TZ', 'LC_ALL', 'TMPDIR', 'PWD'])(
    'refuses the env name %j before touching workDir',
    async (name) => {
      const dir = workDir();
      const err = await rejection(runSandboxed(options({ workDir: dir, env: { [name]: 'x' } })), 'INVALID_OPTIONS');
      expect(err.message).toMatch(/invalid environment variable name|set by the sandbox/);
      expect(existsSync(dir)).toBe(false);
    },
  );

  it('refuses NUL bytes in env values and commands', async () => {
    await rejection(runSandboxed(options({ env: { A: 'x\0y' } })), 'INVALID_OPTIONS');
    await rejection(runSandboxed(options({ command: ['echo', 'a\0b'] })), 'INVALID_OPTIONS');
    await rejection(runSandboxed(options({ command: [] })), 'INVALID_OPTIONS');
  });

  it.each(['relative', '/', '/usr/src', '/tmp/build', '/home/build/src', '/proc/x', '/a/../b', '/a b', '/etc'])(
    'refuses mountPath %j',
    async (mountPath) => {
      await rejection(runSandboxed(options({ mountPath })), 'INVALID_OPTIONS');
    },
  );

  it.each([
    [{ timeoutMs: 0 }, /timeoutMs/],
    [{ sourceDateEpoch: -1 }, /sourceDateEpoch/],
    [{ sourceDateEpoch: 1.5 }, /sourceDateEpoch/],
    [{ limits: { maxFileBytes: -5 } }, /maxFileBytes/],
    [{ limits: { tmpSizeBytes: 0 } }, /tmpSizeBytes/],
    [{ toolchainDirs: ['/does/not/exist'] }, /does not exist/],
    [{ toolchainDirs: ['/tmp'] }, /not allowed/],
    [{ mode: 'docker' as never }, /unknown sandbox mode/],
  ])('refuses %j', async (overrides, message) => {
    const err = await rejection(runSandboxed(options(overrides)), 'INVALID_OPTIONS');
    expect(err.message).toMatch(message);
  });

  it('refuses a workDir that already holds a tree', async () => {
    const dir = workDir();
    mkdirSync(join(dir, 'src'), { recursive: true });
    const err = await rejection(
      runSandboxed(options({ workDir: dir, mode: 'insecure-no-sandbox' })),
      'INVALID_OPTIONS',
    );
    expect(err.message).toMatch(/must be fresh/);
  });
});

/** Pids whose command line contains `needle` (to prove nothing of a killed build survives). */
function processesMatching(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.replace(/^\d+\s+/, '') === needle);
}

describe('runSandboxed cancellation', () => {
  it.each(['bubblewrap', 'insecure-no-sandbox'] as const)('kills a %s build when its signal aborts', async (mode) => {
    const source = mkdtempSync(join(tmpdir(), 'sb-cancel-src-'));
    const work = join(mkdtempSync(join(tmpdir(), 'sb-cancel-work-')), 'w');
    chmodSync(dirname(work), 0o711);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    await expect(
      runSandboxed({
        sourceDir: source,
        workDir: work,
        command: 'sleep 30 & sleep 30; wait',
        env: {},
        sourceDateEpoch: 1,
        timeoutMs: 60_000,
        mode,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'BUILD_CANCELLED' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
