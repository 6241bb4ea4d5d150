import { spawn } from 'node:child_process';

import { SourceError } from './source.error';
import { replaceControlCharacters } from '@secure-build/common';

/** Fixed search path for the git binary: libs never inherit the caller's PATH or GIT_* variables. */
export const GIT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Outcome of one git invocation. */
export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** How to run one git invocation. */
export interface GitRunOptions {
  cwd?: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Receives stderr line by line as it arrives (progress, warnings). */
  onStderrLine?: (line: string) => void;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * Runs `git <args>` without a shell, in its own process group so a timeout kills git and every
 * helper it started (remote helpers, ssh, upload-pack). Resolves with the exit code; rejects with
 * GIT_TIMEOUT on timeout and GIT_FAILED when git cannot be started or floods its output.
 */
export function runGit(args: readonly string[], opts: GitRunOptions): Promise<GitResult> {
  return runProcess('git', args, { ...opts, label: `git ${subcommand(args)}` });
}

/** How to run one helper program (gpg, ssh-keygen) with {@link runProcess}. */
export interface ProcessRunOptions extends GitRunOptions {
  /** Name used in error messages, e.g. `gpg --import`; defaults to the program name. */
  label?: string;
  /** Bytes written to the program's stdin, which is then closed; stdin is /dev/null without it. */
  input?: string | Buffer;
}

/**
 * Runs `program <args>` the way {@link runGit} runs git: no shell, exactly the given environment,
 * its own process group killed on timeout, bounded output. Failures use the same codes
 * (GIT_TIMEOUT, GIT_FAILED) because every helper this lib runs is part of a git operation.
 */
export function runProcess(program: string, args: readonly string[], opts: ProcessRunOptions): Promise<GitResult> {
  const label = opts.label ?? program;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const { stdout: stdoutStream, stderr: stderrStream } = child;
    if (stdoutStream === null || stderrStream === null) throw new Error('spawn did not create output pipes');
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let pendingLine = '';
    let failure: SourceError | undefined;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => {
      failure = new SourceError('GIT_TIMEOUT', `${label} timed out after ${opts.timeoutMs} ms`);
      killGroup();
    }, opts.timeoutMs);
    if (opts.input !== undefined && child.stdin) {
      // A program that exits without reading its input closes the pipe; its exit code tells the story.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
    stdoutStream.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_OUTPUT) {
        failure ??= new SourceError('GIT_FAILED', `${program} produced more output than allowed`);
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    stderrStream.setEncoding('utf8');
    stderrStream.on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk;
      if (!opts.onStderrLine) return;
      const lines = (pendingLine + chunk).split(/\r?\n|\r/);
      pendingLine = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') opts.onStderrLine(line);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new SourceError('GIT_FAILED', `cannot run ${program}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pendingLine.trim() !== '') opts.onStderrLine?.(pendingLine);
      if (failure) return reject(failure);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** The git subcommand of an argument list, skipping global options such as `-c key=value`. */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === '-c' || args[i] === '-C') i += 1;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return args.join(' ');
}

/** Last meaningful lines of git's stderr, stripped of control characters, for error messages. */
export function summarizeStderr(stderr: string): string {
  const lines = stderr
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => replaceControlCharacters(l, ''))
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const tail = lines.slice(-4).join(' | ');
  return tail.length > 600 ? `${tail.slice(0, 600)}…` : tail;
}
