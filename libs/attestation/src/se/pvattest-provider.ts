import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseAttestationResponse } from './exchange-format';
import { SE_USER_DATA_MAX_BYTES } from './measurement';
import { SePvattestError } from './se-errors';

/** Port for running an attestation request inside an SE guest and returning the response exchange file. */
export interface SeAttestationPerformer {
  /** Sends `requestExchange` (a pvattest request file) to the Ultravisor with `userData` (≤ 256 bytes). */
  perform(requestExchange: Buffer, userData: Buffer): Promise<Buffer>;
}

/** Options of the pvattest-backed performer. */
export interface PvattestPerformerOptions {
  /** Path or name (looked up on PATH) of the pvattest binary; default 'pvattest'. */
  readonly pvattestPath?: string;
  /** The Ultravisor device checked before running; default '/dev/uv'; null skips the check. */
  readonly uvDevicePath?: string | null;
  /** Kill pvattest after this many milliseconds; default 30 s. */
  readonly timeoutMs?: number;
  /** Parent directory of the per-call temporary directory; default os.tmpdir(). */
  readonly tmpDir?: string;
}

const STDERR_LIMIT = 2000;

/**
 * Evidence source for real IBM SE guests (s390x, z16/LinuxONE 4 or later): runs `pvattest perform
 * --input <req> --output <resp> [--user-data <file>]` with execFile (argv array, no shell) on private
 * temporary files, and returns the response after checking that it parses as a response.
 */
export function createPvattestPerformer(options: PvattestPerformerOptions = {}): SeAttestationPerformer {
  const pvattestPath = options.pvattestPath ?? 'pvattest';
  const uvDevicePath = options.uvDevicePath === undefined ? '/dev/uv' : options.uvDevicePath;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    async perform(requestExchange: Buffer, userData: Buffer): Promise<Buffer> {
      if (!Buffer.isBuffer(requestExchange) || requestExchange.length === 0) {
        throw new SePvattestError('pvattest perform: the request must be a non-empty Buffer');
      }
      if (!Buffer.isBuffer(userData) || userData.length > SE_USER_DATA_MAX_BYTES) {
        throw new SePvattestError('pvattest perform: user data must be a Buffer of at most 256 bytes');
      }
      if (uvDevicePath !== null) await requireUvDevice(uvDevicePath);

      const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'securebuild-pvattest-'));
      try {
        const input = join(dir, 'request.bin');
        const output = join(dir, 'response.bin');
        await writeFile(input, requestExchange, { mode: 0o600 });
        const args = ['perform', '--input', input, '--output', output];
        if (userData.length > 0) {
          const userFile = join(dir, 'user-data.bin');
          await writeFile(userFile, userData, { mode: 0o600 });
          args.push('--user-data', userFile);
        }
        await run(pvattestPath, args, timeoutMs);
        let response: Buffer;
        try {
          response = await readFile(output);
        } catch (error) {
          throw new SePvattestError(`pvattest perform exited 0 but wrote no response file`, { cause: error });
        }
        try {
          parseAttestationResponse(response);
        } catch (error) {
          throw new SePvattestError(`pvattest perform wrote an invalid response: ${(error as Error).message}`, {
            cause: error,
          });
        }
        return response;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

async function requireUvDevice(path: string): Promise<void> {
  try {
    await access(path);
  } catch (error) {
    throw new SePvattestError(
      `IBM SE attestation needs the Ultravisor device ${path}, which is missing: this is not a Secure Execution ` +
        `guest, or the uvdevice kernel module is not loaded`,
      { cause: error, details: { uvDevicePath: path } },
    );
  }
}

function run(file: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 1024 * 1024, windowsHide: true },
      (error, _stdout, stderr) => {
        if (error === null) return resolve();
        const err = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const details = { pvattestPath: file };
        if (err.code === 'ENOENT') {
          return reject(
            new SePvattestError(
              `pvattest not found at '${file}': install s390-tools (pvattest) in the SE guest image or set pvattestPath`,
              { cause: error, details },
            ),
          );
        }
        if (err.code === 'EACCES') {
          return reject(new SePvattestError(`pvattest at '${file}' is not executable`, { cause: error, details }));
        }
        if (err.killed) {
          return reject(
            new SePvattestError(`pvattest perform timed out after ${timeoutMs} ms`, { cause: error, details }),
          );
        }
        const text = String(stderr).trim().slice(0, STDERR_LIMIT);
        const hint = /\/dev\/uv|uvdevice/i.test(text) ? ' (the Ultravisor device /dev/uv is not usable)' : '';
        reject(
          new SePvattestError(
            `pvattest perform failed with exit code ${String(err.code)}${hint}: ${text || 'no output'}`,
            {
              cause: error,
              details: { ...details, exitCode: err.code },
            },
          ),
        );
      },
    );
  });
}
