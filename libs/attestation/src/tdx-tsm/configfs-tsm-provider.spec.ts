import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { unlink, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { computeTeeBinding } from '../binding/tee-binding';
import type { CollateralSource, PckCa } from '../collateral-fetch/collateral-source';
import type { TdxCollateral } from '../collateral/collateral.types';
import { createSimulatedTdxQuoter, type SimulatedTdxQuoter } from '../simulator/simulated-quoter';
import { SIMULATOR_TRUST_ANCHOR } from '../simulator/test-pki';
import { verifyTdxQuote } from '../verify/verify-tdx-quote';
import {
  ConfigfsTsmError,
  createConfigfsTsmProvider,
  probeConfigfsTsm,
  TSM_OUTBLOB_MAX_BYTES,
} from './configfs-tsm-provider';
import { nodeTsmFilesystem, type TsmFilesystem } from './tsm-filesystem';

const NOW = new Date('2025-06-25T00:00:00Z');
const ATTRIBUTES = ['provider', 'generation', 'inblob', 'outblob'];

/** How the emulated tdx_guest device misbehaves. */
interface DeviceBehaviour {
  provider?: string;
  /** Replaces the quote the device would produce for the written inblob. */
  outblob?: (inblob: Buffer) => Buffer;
  /** Extra inblob writes "by someone else" while the quote is generated. */
  racingWrites?: number;
  /** The outblob read blocks until this settles (a slow GetQuote). */
  hold?: Promise<void>;
  /** errno the outblob read fails with (EBUSY, EIO, ...). */
  outblobErrno?: string;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: emulated kernel error`), { code });
}

/**
 * Emulates the provider side of configfs-tsm on a plain temp directory: mkdir populates `provider` and
 * `generation`, writing `inblob` bumps the generation (EINVAL unless 64 bytes, as tdx_guest), reading
 * `outblob` produces a simulator quote whose REPORTDATA is the inblob, and rmdir removes the attribute
 * files itself — the parts of configfs a plain directory cannot do, behind the TsmFilesystem seam.
 */
function createFakeTdxGuest(quoter: SimulatedTdxQuoter, behaviour: DeviceBehaviour = {}) {
  const calls: string[] = [];
  let active = 0;
  let maxActive = 0;
  const bumpGeneration = async (dir: string): Promise<void> => {
    const generation = Number((await readFile(join(dir, 'generation'), 'latin1')).trim());
    await writeFile(join(dir, 'generation'), `${generation + 1}\n`);
  };
  const fs: TsmFilesystem = {
    async mkdir(path) {
      calls.push(`mkdir ${basename(path)}`);
      await nodeTsmFilesystem.mkdir(path);
      active += 1;
      maxActive = Math.max(maxActive, active);
      await writeFile(join(path, 'provider'), behaviour.provider ?? 'tdx_guest\n');
      await writeFile(join(path, 'generation'), '0\n');
    },
    async rmdir(path) {
      calls.push(`rmdir ${basename(path)}`);
      for (const name of ATTRIBUTES) await unlink(join(path, name)).catch(() => undefined);
      await nodeTsmFilesystem.rmdir(path);
      active -= 1;
    },
    async writeFile(path, data) {
      calls.push(`write ${basename(path)} ${data.length}`);
      if (basename(path) === 'inblob' && data.length !== 64) throw errno('EINVAL');
      await nodeTsmFilesystem.writeFile(path, data);
      if (basename(path) === 'inblob') await bumpGeneration(dirname(path));
    },
    async readFile(path, maxBytes) {
      calls.push(`read ${basename(path)}`);
      if (basename(path) === 'outblob') {
        const dir = dirname(path);
        await behaviour.hold;
        if (behaviour.outblobErrno) throw errno(behaviour.outblobErrno);
        const inblob = await readFile(join(dir, 'inblob'));
        const blob = behaviour.outblob ? behaviour.outblob(inblob) : (await quoter.quote(inblob)).quote;
        for (let i = 0; i < (behaviour.racingWrites ?? 0); i += 1) await bumpGeneration(dir);
        await writeFile(path, blob);
      }
      return nodeTsmFilesystem.readFile(path, maxBytes);
    },
    isDirectory: (path) => nodeTsmFilesystem.isDirectory(path),
  };
  return {
    fs,
    calls,
    get maxActive() {
      return maxActive;
    },
  };
}

describe(createConfigfsTsmProvider.name, () => {
  let quoter: SimulatedTdxQuoter;
  let simCollateral: TdxCollateral;
  let root: string;
  let fetched: [string, PckCa][];
  let collateral: CollateralSource;
  const binding = computeTeeBinding({
    purpose: 'worker-key',
    signingKeySpkiDer: Buffer.from('spki of the worker key'),
  });

  beforeAll(async () => {
    quoter = createSimulatedTdxQuoter({ now: () => NOW });
    simCollateral = (await quoter.quote(Buffer.alloc(64))).collateral;
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sb-tsm-'));
    fetched = [];
    collateral = {
      fetch: async (fmspc, ca) => {
        fetched.push([fmspc, ca]);
        return simCollateral;
      },
    };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const provider = (device: { fs: TsmFilesystem }, quoteTimeoutMs?: number) =>
    createConfigfsTsmProvider({ root, fs: device.fs, collateral, quoteTimeoutMs });
  const rejection = (promise: Promise<unknown>): Promise<ConfigfsTsmError> =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: ConfigfsTsmError) => error,
    );
  const mkdirs = (calls: string[]) => calls.filter((c) => c.startsWith('mkdir')).map((c) => c.slice(6));
  const rmdirs = (calls: string[]) => calls.filter((c) => c.startsWith('rmdir')).map((c) => c.slice(6));

  it('returns a v4 quote whose REPORTDATA is the binding, with collateral for its FMSPC, and cleans up', async () => {
    const device = createFakeTdxGuest(quoter);
    const tdx = provider(device);
    expect(tdx.teeType).toBe('tdx');
    const evidence = await tdx.collect(binding);
    expect(evidence).toMatchObject({
      format: 'tdx-quote-v4',
      mediaType: 'application/vnd.intel.tdx.quote.v4',
      simulated: false,
      collateral: simCollateral,
    });
    expect(evidence.quote.subarray(568, 632)).toEqual(binding);
    expect(fetched).toEqual([['00AABBCC0000', 'platform']]);
    const name = mkdirs(device.calls)[0];
    expect(name).toMatch(/^secure-build-\d+-[0-9a-f]{16}$/);
    expect(device.calls).toEqual([
      `mkdir ${name}`,
      'read provider',
      'read generation',
      'write inblob 64',
      'read outblob',
      'read generation',
      `rmdir ${name}`,
    ]);
    expect(readdirSync(root)).toEqual([]);
    const report = verifyTdxQuote({
      quote: evidence.quote,
      collateral: evidence.collateral,
      trustAnchors: [SIMULATOR_TRUST_ANCHOR],
      now: NOW,
      expectedReportData: binding,
    });
    expect(report.ok).toBe(true);
  });

  it('uses a fresh directory per request and serializes concurrent requests', async () => {
    const device = createFakeTdxGuest(quoter);
    const tdx = provider(device);
    const other = Buffer.alloc(64, 0xab);
    const [a, b] = await Promise.all([tdx.collect(binding), tdx.collect(other)]);
    expect(a.quote.subarray(568, 632)).toEqual(binding);
    expect(b.quote.subarray(568, 632)).toEqual(other);
    expect(new Set(mkdirs(device.calls)).size).toBe(2);
    expect(rmdirs(device.calls)).toEqual(mkdirs(device.calls));
    expect(device.maxActive).toBe(1);
  });

  it('refuses report data that is not exactly 64 bytes before touching configfs', async () => {
    const device = createFakeTdxGuest(quoter);
    for (const bad of [Buffer.alloc(32), Buffer.alloc(65), 'x'.repeat(64) as unknown as Buffer]) {
      await expect(provider(device).collect(bad)).rejects.toThrow(/exactly 64 bytes/);
    }
    expect(device.calls).toEqual([]);
  });

  it('names the provider when the guest is not a TDX guest (sev_guest) and writes nothing', async () => {
    const device = createFakeTdxGuest(quoter, { provider: 'sev_guest\n' });
    const error = await rejection(provider(device).collect(binding));
    expect(error).toBeInstanceOf(ConfigfsTsmError);
    expect(error.message).toMatch(/provider is 'sev_guest', not 'tdx_guest'/);
    expect(device.calls.some((c) => c.startsWith('write'))).toBe(false);
    expect(rmdirs(device.calls)).toEqual(mkdirs(device.calls));
    expect(fetched).toEqual([]);
  });

  it('discards the quote when the generation did not advance by exactly one (racing writer)', async () => {
    const device = createFakeTdxGuest(quoter, { racingWrites: 1 });
    const error = await rejection(provider(device).collect(binding));
    expect(error.message).toMatch(/generation went from 0 to 2 \(expected 1\)/);
    expect(rmdirs(device.calls)).toEqual(mkdirs(device.calls));
    expect(fetched).toEqual([]);
  });

  it('refuses an outblob over 32 KiB (EFBIG ceiling) and one over 8 KiB (CBOR token, not a quote)', async () => {
    const huge = createFakeTdxGuest(quoter, { outblob: () => Buffer.alloc(TSM_OUTBLOB_MAX_BYTES + 1, 4) });
    await expect(provider(huge).collect(binding)).rejects.toThrow(/outblob exceeds 32768 bytes/);
    expect(rmdirs(huge.calls)).toEqual(mkdirs(huge.calls));
    const cbor = createFakeTdxGuest(quoter, { outblob: () => Buffer.alloc(9000, 0xd9) });
    await expect(provider(cbor).collect(binding)).rejects.toThrow(/9000 bytes is not a DCAP quote/);
    expect(rmdirs(cbor.calls)).toEqual(mkdirs(cbor.calls));
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses an outblob that is not a TDX quote', async () => {
    const device = createFakeTdxGuest(quoter, { outblob: () => Buffer.alloc(1000, 1) });
    await expect(provider(device).collect(binding)).rejects.toThrow(/TDX quote: header.version/);
    expect(rmdirs(device.calls)).toEqual(mkdirs(device.calls));
  });

  it('maps kernel errors (EBUSY, EIO) to actionable messages and still removes the directory', async () => {
    for (const [code, pattern] of [
      ['EBUSY', /still in flight/],
      ['EIO', /GetQuote hypercall failed \(EIO\)/],
    ] as const) {
      const device = createFakeTdxGuest(quoter, { outblobErrno: code });
      const error = await rejection(provider(device).collect(binding));
      expect(error.code).toBe('TSM_REPORT');
      expect(error.message).toMatch(pattern);
      expect(rmdirs(device.calls)).toEqual(mkdirs(device.calls));
    }
  });

  it('times out a slow GetQuote, removes the directory once the kernel answers, and keeps requests serialized', async () => {
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const device = createFakeTdxGuest(quoter, { hold });
    const tdx = provider(device, 100);
    const error = await rejection(tdx.collect(binding));
    expect(error.message).toMatch(/no TDX quote within 100 ms/);
    expect(rmdirs(device.calls)).toEqual([]);
    const next = tdx.collect(Buffer.alloc(64, 1));
    release();
    // The queued request starts only after the timed-out one has been answered and cleaned up.
    expect((await next).quote.subarray(568, 632)).toEqual(Buffer.alloc(64, 1));
    expect(mkdirs(device.calls)).toHaveLength(2);
    expect(rmdirs(device.calls)).toEqual(mkdirs(device.calls));
    expect(device.maxActive).toBe(1);
    expect(readdirSync(root)).toEqual([]);
  });

  it('reports a missing configfs-tsm root as TDX_UNAVAILABLE', async () => {
    const device = createFakeTdxGuest(quoter);
    const missing = join(root, 'no-tsm');
    const error = await rejection(
      createConfigfsTsmProvider({ root: missing, fs: device.fs, collateral }).collect(binding),
    );
    expect(error.code).toBe('TDX_UNAVAILABLE');
    expect(error.message).toBe(
      `TDX not available: ${missing} missing — is this a TDX guest with Linux ≥ 6.7 and configfs mounted?`,
    );
  });

  it('propagates collateral failures after the request directory is gone', async () => {
    const device = createFakeTdxGuest(quoter);
    collateral = { fetch: async () => Promise.reject(new Error('PCS down')) };
    await expect(provider(device).collect(binding)).rejects.toThrow('PCS down');
    expect(rmdirs(device.calls)).toEqual(mkdirs(device.calls));
  });
});

describe(probeConfigfsTsm.name, () => {
  let root: string;
  let quoter: SimulatedTdxQuoter;
  beforeAll(() => {
    quoter = createSimulatedTdxQuoter({ now: () => NOW });
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sb-tsm-probe-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('passes on a tdx_guest and leaves nothing behind', async () => {
    const device = createFakeTdxGuest(quoter);
    await probeConfigfsTsm(root, { fs: device.fs });
    expect(device.calls.map((c) => c.split(' ')[0])).toEqual(['mkdir', 'read', 'rmdir']);
    expect(readdirSync(root)).toEqual([]);
  });

  it('explains a missing root', async () => {
    const missing = join(root, 'sys/kernel/config/tsm/report');
    await expect(probeConfigfsTsm(missing)).rejects.toThrow(
      `TDX not available: ${missing} missing — is this a TDX guest with Linux ≥ 6.7 and configfs mounted?`,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('names another TEE provider', async () => {
    const device = createFakeTdxGuest(quoter, { provider: 'arm_cca_guest\n' });
    await expect(probeConfigfsTsm(root, { fs: device.fs })).rejects.toMatchObject({
      code: 'TDX_UNAVAILABLE',
      message: expect.stringMatching(/TDX not available: .*'arm_cca_guest'/),
    });
    expect(readdirSync(root)).toEqual([]);
  });
});
