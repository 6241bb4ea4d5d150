import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { createSimulatedTdxQuoter } from '@secure-build/attestation';

import { runCli } from './support/cli';

const TDX = resolve(__dirname, '../../shared/testdata/tdx');
const hasTestdata = existsSync(join(TDX, 'tdx_quote'));
if (!hasTestdata) console.warn(`[attestation verify e2e] SKIPPED: real TDX quotes not found at ${TDX}`);

const MRTD = '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7';
const REPORT_DATA =
  '9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20';
const AS_OF = '2025-06-25T00:00:00Z';
const quote = join(TDX, 'tdx_quote');
const collateral = join(TDX, 'tdx_quote_collateral.json');

describe.skipIf(!hasTestdata)('secure-build attestation verify (real Intel quotes)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-attest-verify-'));
  });

  it('verifies tdx_quote at 2025-06-25: exit 0, UpToDate, TD report fields and every check', async () => {
    const run = await runCli(['attestation', 'verify', quote, '--collateral', collateral, '--as-of', AS_OF]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^tee: +tdx \(Intel SGX Root CA\)$/m);
    expect(run.stdout).toMatch(/^TCB status: +UpToDate$/m);
    expect(run.stdout).toMatch(/^advisories: +none$/m);
    expect(run.stdout).toMatch(new RegExp(`^MRTD: +${MRTD}$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^REPORTDATA: +${REPORT_DATA}$`, 'm'));
    expect(run.stdout).toMatch(/^RTMR3: +[0-9a-f]{96}$/m);
    expect(run.stdout).toMatch(/^MRCONFIGID: +[0-9a-f]{96}$/m);
    expect(run.stdout).toMatch(/^TD attributes: 0000001000000000 \(debug: no, SEPT_VE_DISABLE: yes\)$/m);
    for (const check of ['quote.signature', 'pck.revocation', 'collateral.tcb-info.validity', 'tcb.status']) {
      expect(run.stdout).toMatch(new RegExp(`^✔ ${check.replace('.', '\\.')}`, 'm'));
    }
    expect(run.stdout).not.toMatch(/^✘/m);
    expect(run.stdout).toMatch(/^VERIFIED$/m);
  });

  it('prints the same result as JSON with --json, and reads hex quotes', async () => {
    const hex = join(dir, 'tdx_quote.hex');
    writeFileSync(hex, `${readFileSync(quote).toString('hex')}\n`);
    const run = await runCli(['attestation', 'verify', hex, '--collateral', collateral, '--as-of', AS_OF, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      verified: boolean;
      tee: string;
      tcbStatus: string;
      advisoryIds: string[];
      asOf: string;
      td: { td: { mrTd: string; reportData: string } };
      checks: { name: string; ok: boolean }[];
    };
    expect(report).toMatchObject({ verified: true, tee: 'tdx', tcbStatus: 'UpToDate', advisoryIds: [] });
    expect(report.asOf).toBe('2025-06-25T00:00:00.000Z');
    expect(report.td.td).toMatchObject({ mrTd: MRTD, reportData: REPORT_DATA });
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });

  it('fails at 2025-08-01 (collateral expired): exit 1 naming collateral.tcb-info.validity', async () => {
    const run = await runCli([
      'attestation',
      'verify',
      quote,
      '--collateral',
      collateral,
      '--as-of',
      '2025-08-01T00:00:00Z',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✘ collateral\.tcb-info\.validity: expired/m);
    expect(run.stdout).toMatch(/^VERIFICATION FAILED: .*collateral\.tcb-info\.validity/m);
  });

  it('does not accept tdx_quote_outdated as UpToDate at 2026-02-25 (no matching TCB level: exit 1)', async () => {
    const run = await runCli([
      'attestation',
      'verify',
      join(TDX, 'tdx_quote_outdated'),
      '--collateral',
      join(TDX, 'tdx_quote_outdated_collateral.json'),
      '--as-of',
      '2026-02-25T00:00:00Z',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/UpToDate/);
    expect(run.stdout).toMatch(/^✘ tcb\.status: no tcbInfo TCB level matches/m);
  });

  it('fails when one byte of the signed region changes (RTMR0): exit 1 naming quote.signature', async () => {
    const tampered = Buffer.from(readFileSync(quote));
    tampered[376] ^= 0x01;
    const file = join(dir, 'tampered');
    writeFileSync(file, tampered);
    const run = await runCli(['attestation', 'verify', file, '--collateral', collateral, '--as-of', AS_OF]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✘ quote\.signature: quote signature does not verify/m);
  });

  it('exits 2 on bad usage and unreadable input', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"tcb_info": ');
    const notCollateral = join(dir, 'not-collateral.json');
    writeFileSync(notCollateral, '{"tcb_info": "{}"}');
    const cases: [string[], RegExp][] = [
      [['attestation', 'verify', quote], /required option '--collateral <file>'/],
      [
        ['attestation', 'verify', quote, '--collateral', collateral, '--as-of', 'yesterday'],
        /--as-of must be an RFC 3339/,
      ],
      [['attestation', 'verify', quote, '--collateral', collateral, '--as-of', '2025-06-25'], /--as-of must be/],
      [['attestation', 'verify', join(dir, 'nope'), '--collateral', collateral], /cannot read quote .*ENOENT/],
      [['attestation', 'verify', quote, '--collateral', join(dir, 'nope.json')], /cannot read collateral .*ENOENT/],
      [['attestation', 'verify', quote, '--collateral', bad], /collateral .* is not JSON/],
      [['attestation', 'verify', quote, '--collateral', notCollateral], /not DCAP collateral: missing .*root_ca_crl/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(pattern);
    }
  });
});

describe('secure-build attestation verify (simulated evidence)', () => {
  it('refuses a simulator quote by default and accepts it only with --allow-simulated, labelled as such', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-attest-sim-'));
    const sim = await createSimulatedTdxQuoter().quote(Buffer.alloc(64, 0x5a));
    writeFileSync(join(dir, 'quote'), sim.quote);
    writeFileSync(join(dir, 'collateral.json'), JSON.stringify(sim.collateral));
    const args = ['attestation', 'verify', join(dir, 'quote'), '--collateral', join(dir, 'collateral.json')];
    const strict = await runCli(args);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(
      /^✘ pck\.trust-anchor: root "TEE-SIM SGX Root CA" .* is not pinned \(pinned: intel\)/m,
    );
    const allowed = await runCli([...args, '--allow-simulated']);
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(allowed.stdout).toMatch(/^tee: +tdx-sim \(SIMULATOR, NOT INTEL: no hardware isolation\)$/m);
    expect(allowed.stdout).toMatch(new RegExp(`^REPORTDATA: +${'5a'.repeat(64)}$`, 'm'));
  });
});
