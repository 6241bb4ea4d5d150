import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const BIN = resolve(ROOT, 'bin/secure-build.js');

/** Result of one CLI run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`bin/secure-build.js`) as a user would, from the repository root. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  if (!existsSync(resolve(ROOT, 'dist/apps/cli/src/main.js'))) {
    throw new Error('the CLI is not built: run `npm run build` (npm test does it)');
  }
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Arguments of `secure-build build --local` for a local fixture repository, then `extra`. */
export function localBuildArgs(repoDir: string, commit: string, outDir: string, ...extra: string[]): string[] {
  return ['build', '--local', '--repo', repoDir, '--commit', commit, '--allow-local-repo', '--out', outDir, ...extra];
}
