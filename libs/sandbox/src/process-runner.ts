import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

import { SandboxError } from './sandbox.error';

/** Which output stream a log chunk came from. */
export type LogStream = 'stdout' | 'stderr';

/** How to run one supervised process tree. */
export interface ProcessRunOptions {
  cwd?: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Host credentials to run as (requires root). */
  user?: { uid: number; gid: number };
  onLog?: (chunk: string, stream: LogStream) => void;
  /** Open a pipe on fd 3 and report whether anything was written to it (a start marker). */
  markerFd?: boolean;
  /** Aborting kills the whole process group (a cancelled build). */
  signal?: AbortSignal;
}

/** How a supervised process tree ended. */
export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  /** The last few KiB of stderr, for error messages. */
  stderrTail: string;
  /** Whether the process tree wrote to the fd 3 marker pipe. */
  markerSeen: boolean;
  /** Whether `signal` aborted the run. */
  aborted: boolean;
}

const STDERR_TAIL = 4096;
const CLOSE_GRACE_MS = 2000;

/**
 * Host-side trampoline (bash is Essential on Debian) that closes every inherited descriptor above
 * 2 (above 3 when fd 3 is the marker pipe) before exec'ing the real command: Node does not close descriptors its own parent leaked
 * without close-on-exec, and bubblewrap passes all descriptors through to the sandboxed build.
 */
const CLOSE_FDS_SCRIPT =
  'keep=$1; shift; for f in /proc/self/fd/*; do n=${f##*/}; ' +
  'if [ "$n" -gt "$keep" ]; then eval "exec $n>&-"; fi; done; exec "$@"';

/**
 * Spawns `file args` (no shell for the arguments) as the leader of a new process group, streams its output as it
 * arrives, and on timeout SIGKILLs the whole group. Descendants left in the group are killed when
 * the leader exits, so nothing outlives the build.
 */
export function runProcessTree(
  file: string,
  args: readonly string[],
  opts: ProcessRunOptions,
): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-c', CLOSE_FDS_SCRIPT, 'close-fds', opts.markerFd ? '3' : '2', file, ...args], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', opts.markerFd ? 'pipe' : 'ignore'],
      uid: opts.user?.uid,
      gid: opts.user?.gid,
    });
    let timedOut = false;
    let stderrTail = '';
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let openStreams = 0;
    let settled = false;
    let markerSeen = false;
    let grace: NodeJS.Timeout | undefined;

    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    const settle = () => {
      if (settled || exit === undefined) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      opts.signal?.removeEventListener('abort', onAbort);
      child.stdio[3]?.destroy();
      resolve({
        exitCode: exit.code,
        signal: exit.signal,
        timedOut,
        durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n),
        stderrTail,
        markerSeen,
        aborted,
      });
    };

    const pipe = (stream: NodeJS.ReadableStream | null, name: LogStream) => {
      if (!stream) return;
      openStreams += 1;
      const decoder = new StringDecoder('utf8');
      stream.on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (name === 'stderr') stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
        if (text !== '') opts.onLog?.(text, name);
      });
      stream.on('close', () => {
        const rest = decoder.end();
        if (rest !== '') opts.onLog?.(rest, name);
        openStreams -= 1;
        if (openStreams === 0) settle();
      });
    };
    pipe(child.stdout, 'stdout');
    pipe(child.stderr, 'stderr');

    const marker = child.stdio[3];
    if (opts.markerFd && marker && 'on' in marker) {
      marker.on('data', () => {
        markerSeen = true;
      });
    }

    child.on('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      settled = true;
      reject(new SandboxError('SANDBOX_FAILED', `cannot start ${file}: ${err.message}`, { cause: err }));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      killGroup();
      if (openStreams === 0) settle();
      // A descendant that left the process group may still hold the pipes open; do not wait forever.
      grace = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle();
      }, CLOSE_GRACE_MS);
    });
  });
}
