import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { computeTeeBinding } from '../binding/tee-binding';
import { createAttestationRequest } from './arcb';
import { createPvattestPerformer } from './pvattest-provider';
import { SePvattestError } from './se-errors';
import { createSimulatedSeGuest } from './se-simulator';
import { verifySeAttestation } from './se-verifier';

/**
 * A stand-in for `pvattest perform` on a machine without /dev/uv: it parses the real command line, reads
 * the request and user data files and forwards them to the simulated Ultravisor in this test process.
 */
const FAKE_PVATTEST = `#!${process.execPath}
const fs = require('node:fs');
const [command, ...rest] = process.argv.slice(2);
const opts = {};
for (let i = 0; i < rest.length; i += 2) opts[rest[i]] = rest[i + 1];
fs.writeFileSync(__ARGV_LOG__, JSON.stringify(process.argv.slice(2)));
if (command !== 'perform' || !opts['--input'] || !opts['--output']) {
  process.stderr.write('error: unexpected arguments\\n');
  process.exit(2);
}
const body = JSON.stringify({
  request: fs.readFileSync(opts['--input']).toString('base64'),
  userData: opts['--user-data'] ? fs.readFileSync(opts['--user-data']).toString('base64') : '',
});
fetch(__URL__, { method: 'POST', body })
  .then(async (res) => {
    const text = await res.text();
    if (!res.ok) {
      process.stderr.write('Error: ' + text + '\\n');
      process.exit(1);
    }
    fs.writeFileSync(opts['--output'], Buffer.from(text, 'base64'));
  })
  .catch((err) => {
    process.stderr.write(String(err) + '\\n');
    process.exit(1);
  });
`;

const FAILING_PVATTEST = `#!${process.execPath}
process.stderr.write('Error: Failed to open /dev/uv: No such file or directory (os error 2)\\n');
process.exit(1);
`;

const GARBAGE_PVATTEST = `#!${process.execPath}
const args = process.argv.slice(2);
require('node:fs').writeFileSync(args[args.indexOf('--output') + 1], 'not an exchange file');
`;

describe(createPvattestPerformer.name, () => {
  const guest = createSimulatedSeGuest();
  const binding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: Buffer.from('worker spki') });
  let dir: string;
  let server: Server;
  let fake: string;
  let argvLog: string;

  const script = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, 0o755);
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'se-pvattest-spec-'));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          const { request, userData } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
          const response = guest.perform(Buffer.from(request, 'base64'), Buffer.from(userData, 'base64'));
          res.end(response.toString('base64'));
        } catch (error) {
          res.statusCode = 500;
          res.end((error as Error).message);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    argvLog = join(dir, 'argv.json');
    fake = script(
      'pvattest',
      FAKE_PVATTEST.replace('__URL__', JSON.stringify(url)).replace('__ARGV_LOG__', JSON.stringify(argvLog)),
    );
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs pvattest perform with --input/--output/--user-data and returns a verifiable response', async () => {
    const work = mkdtempSync(join(dir, 'tmp-'));
    const request = createAttestationRequest({ hostKeys: [guest.hostPublicKey], flags: { attestationPhkh: true } });
    const performer = createPvattestPerformer({ pvattestPath: fake, uvDevicePath: fake, tmpDir: work });
    const response = await performer.perform(request.requestFile, binding);
    const report = verifySeAttestation({
      response,
      secrets: request.secrets,
      header: guest.header,
      expectedUserData: binding,
      expectedAttestationPhkh: guest.hostKeyHash,
    });
    expect(report.ok).toBe(true);
    const argv = JSON.parse(readFileSync(argvLog, 'utf8')) as string[];
    expect(argv[0]).toBe('perform');
    expect(argv.filter((a) => a.startsWith('--'))).toEqual(['--input', '--output', '--user-data']);
    expect(readdirSync(work)).toEqual([]); // temporary files removed
  });

  it('omits --user-data when there is none', async () => {
    const request = createAttestationRequest({ hostKeys: [guest.hostPublicKey] });
    const response = await createPvattestPerformer({ pvattestPath: fake, uvDevicePath: null }).perform(
      request.requestFile,
      Buffer.alloc(0),
    );
    expect(verifySeAttestation({ response, secrets: request.secrets, header: guest.header }).ok).toBe(true);
    expect(JSON.parse(readFileSync(argvLog, 'utf8'))).not.toContain('--user-data');
  });

  it('reports a missing pvattest binary clearly', async () => {
    const performer = createPvattestPerformer({ pvattestPath: join(dir, 'no-such-pvattest'), uvDevicePath: null });
    const error = await performer.perform(Buffer.from('x'), Buffer.alloc(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SePvattestError);
    expect((error as SePvattestError).code).toBe('SE_PVATTEST');
    expect((error as Error).message).toMatch(/pvattest not found at '.*no-such-pvattest'/);
  });

  it('reports a missing /dev/uv before running pvattest', async () => {
    const performer = createPvattestPerformer({ pvattestPath: fake, uvDevicePath: join(dir, 'no-uv') });
    await expect(performer.perform(Buffer.from('x'), Buffer.alloc(0))).rejects.toThrow(
      /Ultravisor device .*no-uv, which is missing: this is not a Secure Execution guest/,
    );
  });

  it('passes on pvattest errors with its stderr', async () => {
    const failing = script('pvattest-failing', FAILING_PVATTEST);
    const performer = createPvattestPerformer({ pvattestPath: failing, uvDevicePath: null });
    await expect(performer.perform(Buffer.from('x'), Buffer.alloc(0))).rejects.toThrow(
      /exit code 1 \(the Ultravisor device \/dev\/uv is not usable\): Error: Failed to open \/dev\/uv/,
    );
  });

  it('passes on Ultravisor refusals reported by pvattest', async () => {
    const foreign = createAttestationRequest({ hostKeys: [createSimulatedSeGuest().hostPublicKey] });
    const performer = createPvattestPerformer({ pvattestPath: fake, uvDevicePath: null });
    await expect(performer.perform(foreign.requestFile, binding)).rejects.toThrow(/rc 0x010c/);
  });

  it('refuses output that is not a response file, and oversized user data', async () => {
    const garbage = script('pvattest-garbage', GARBAGE_PVATTEST);
    const performer = createPvattestPerformer({ pvattestPath: garbage, uvDevicePath: null });
    await expect(performer.perform(Buffer.from('x'), Buffer.alloc(0))).rejects.toThrow(/invalid response/);
    await expect(performer.perform(Buffer.from('x'), Buffer.alloc(257))).rejects.toThrow(/at most 256 bytes/);
  });
});
