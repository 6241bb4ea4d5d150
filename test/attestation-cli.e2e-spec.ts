import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { runCli } from './support/cli';

const TDX = resolve(__dirname, '../../shared/testdata/tdx');
const hasTestdata = existsSync(join(TDX, 'tdx_quote'));
if (!hasTestdata) console.warn(`[attestation inspect e2e] SKIPPED: real TDX quotes not found at ${TDX}`);

const MRTD = '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7';
const REPORT_DATA =
  '9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20';

describe.skipIf(!hasTestdata)('secure-build attestation inspect (real Intel quotes)', () => {
  it('prints the TD report of a binary quote as JSON', async () => {
    const run = await runCli(['attestation', 'inspect', join(TDX, 'tdx_quote'), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const text = run.stdout;
    expect(text).toContain(MRTD);
    expect(text).toContain(REPORT_DATA);
    expect(text).toMatch(/Intel SGX PCK Certificate/);
  });

  it('reads hex quotes and prints a readable tree', async () => {
    for (const file of ['tdx-quote.hex', 'quote-from-tappd.hex']) {
      const run = await runCli(['attestation', 'inspect', join(TDX, file)]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/mrtd: [0-9a-f]{96}/i);
    }
  });
});

describe('secure-build attestation inspect (bad input)', () => {
  it('exits 2 naming the problem for a file that is not a quote, and for a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-quote-'));
    writeFileSync(join(dir, 'junk.bin'), Buffer.alloc(100, 7));
    const junk = await runCli(['attestation', 'inspect', join(dir, 'junk.bin')]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/QUOTE_FORMAT/);
    const missing = await runCli(['attestation', 'inspect', join(dir, 'nope.bin')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read quote/);
  });
});
