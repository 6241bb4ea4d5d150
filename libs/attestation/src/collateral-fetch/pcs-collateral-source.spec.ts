import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { TdxCollateral } from '../collateral/collateral.types';
import { createSimulatedTdxQuoter } from '../simulator/simulated-quoter';
import { SIMULATOR_TRUST_ANCHOR } from '../simulator/test-pki';
import { startFakePcs, type FakePcs } from '../testing/fake-pcs.util';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { INTEL_TRUST_ANCHOR } from '../verify/trust-anchors';
import { verifyTdxQuote } from '../verify/verify-tdx-quote';
import { CollateralFetchError } from './collateral-source';
import { createPcsCollateralSource } from './pcs-collateral-source';
import { rawJsonMember } from './raw-json';

const REAL_FMSPC = 'B0C06F000000';
const SIM_FMSPC = '00AABBCC0000';
const NOW = new Date('2025-06-25T00:00:00Z');

let pcs: FakePcs | undefined;
afterEach(async () => {
  await pcs?.close();
  pcs = undefined;
});

warnIfTdxTestdataMissing('createPcsCollateralSource on real Intel collateral');

describe.skipIf(!hasTdxTestdata)('createPcsCollateralSource (real Intel collateral in PCS wire format)', () => {
  let quote: Buffer;
  let collateral: TdxCollateral;
  beforeAll(() => {
    quote = readTdxTestdata('tdx_quote');
    collateral = JSON.parse(readTdxTestdata('tdx_quote_collateral.json').toString('utf8')) as TdxCollateral;
  });

  it('reassembles the collateral byte for byte, and it lets verifyTdxQuote accept tdx_quote at 2025-06-25', async () => {
    pcs = await startFakePcs(collateral, REAL_FMSPC);
    const source = createPcsCollateralSource({ baseUrl: `${pcs.baseUrl}/`, rootCrlUrl: pcs.rootCrlUrl });
    const fetched = await source.fetch(REAL_FMSPC.toLowerCase(), 'platform');
    expect(fetched).toEqual(collateral);
    expect(pcs.requests.sort()).toEqual([
      '/IntelSGXRootCA.der',
      '/sgx/certification/v4/pckcrl?ca=platform&encoding=der',
      '/tdx/certification/v4/qe/identity',
      `/tdx/certification/v4/tcb?fmspc=${REAL_FMSPC}`,
    ]);
    const fromFile = verifyTdxQuote({ quote, collateral, trustAnchors: [INTEL_TRUST_ANCHOR], now: NOW });
    const fromPcs = verifyTdxQuote({ quote, collateral: fetched, trustAnchors: [INTEL_TRUST_ANCHOR], now: NOW });
    expect(fromPcs).toEqual(fromFile);
    expect(fromPcs).toMatchObject({ ok: true, tee: 'tdx', tcbStatus: 'UpToDate', advisoryIds: [] });
  });

  it('keeps the served tcbInfo text even when the outer body is formatted differently', async () => {
    pcs = await startFakePcs(collateral, REAL_FMSPC);
    pcs.faults.tcb = {
      body: `{\n  "signature" : "${collateral.tcb_info_signature}",\n  "tcbInfo" :  ${collateral.tcb_info}\n}\n`,
    };
    const source = createPcsCollateralSource({ baseUrl: pcs.baseUrl, rootCrlUrl: pcs.rootCrlUrl });
    const fetched = await source.fetch(REAL_FMSPC, 'platform');
    expect(fetched.tcb_info).toBe(collateral.tcb_info);
    expect(verifyTdxQuote({ quote, collateral: fetched, trustAnchors: [INTEL_TRUST_ANCHOR], now: NOW }).ok).toBe(true);
  });
});

describe(createPcsCollateralSource.name, () => {
  let sim: { quote: Buffer; collateral: TdxCollateral };
  beforeAll(async () => {
    sim = await createSimulatedTdxQuoter({ now: () => NOW }).quote(Buffer.alloc(64, 7));
  });
  const source = (p: FakePcs, timeoutMs?: number) =>
    createPcsCollateralSource({ baseUrl: p.baseUrl, rootCrlUrl: p.rootCrlUrl, timeoutMs });
  const fails = async (p: FakePcs, pattern: RegExp, fmspc = SIM_FMSPC, timeoutMs?: number) => {
    const error = await source(p, timeoutMs)
      .fetch(fmspc, 'platform')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(CollateralFetchError);
    expect((error as CollateralFetchError).code).toBe('COLLATERAL_FETCH');
    expect((error as Error).message).toMatch(pattern);
  };

  it('fetches simulator collateral that verifies the simulator quote under the simulator anchor', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    const fetched = await source(pcs).fetch(SIM_FMSPC, 'platform');
    expect(fetched).toEqual(sim.collateral);
    const report = verifyTdxQuote({ ...sim, collateral: fetched, trustAnchors: [SIMULATOR_TRUST_ANCHOR], now: NOW });
    expect(report.ok).toBe(true);
  });

  it('rejects a malformed FMSPC or CA before any request', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    await expect(source(pcs).fetch('00AABBCC00', 'platform')).rejects.toThrow(/12 hex digits/);
    await expect(source(pcs).fetch('00AABBCC00zz', 'platform')).rejects.toThrow(/12 hex digits/);
    await expect(source(pcs).fetch(SIM_FMSPC, 'other' as 'platform')).rejects.toThrow(/'platform' or 'processor'/);
    expect(pcs.requests).toEqual([]);
  });

  it('rejects bad base URLs and timeouts at construction', () => {
    expect(() => createPcsCollateralSource({ baseUrl: 'ftp://example.com' })).toThrow(/http/);
    expect(() => createPcsCollateralSource({ baseUrl: 'not a url' })).toThrow(/not a URL/);
    expect(() => createPcsCollateralSource({ baseUrl: 'https://x.example/?a=1' })).toThrow(/query/);
    expect(() => createPcsCollateralSource({ baseUrl: 'https://x.example', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('reports 404 for an unknown FMSPC with the status and Intel error headers', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    await fails(pcs, /TCB info: HTTP 404 .*fmspc=00AABBCC0001.*NotFound: no such resource/, '00AABBCC0001');
  });

  it('reports a 500 from any endpoint', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    pcs.faults.pckcrl = { status: 500, body: 'oops' };
    await fails(pcs, /PCK CRL: HTTP 500/);
  });

  it('reports bad JSON, a missing member and a bad signature field', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    pcs.faults.tcb = { body: '{"tcbInfo": {' };
    await fails(pcs, /TCB info: body is not PCS JSON/);
    pcs.faults.tcb = { body: `{"signature":"${'00'.repeat(64)}"}` };
    await fails(pcs, /no member "tcbInfo"/);
    pcs.faults.tcb = undefined;
    pcs.faults.qe = { body: `{"enclaveIdentity":${sim.collateral.qe_identity},"signature":"abc"}` };
    await fails(pcs, /QE identity: .*"signature" is not 64 bytes of hex/);
  });

  it('refuses a tcbInfo for another FMSPC and a QE identity that is not TD_QE', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    const other = sim.collateral.tcb_info.replace(SIM_FMSPC, '112233445566');
    pcs.faults.tcb = { body: `{"tcbInfo":${other},"signature":"${sim.collateral.tcb_info_signature}"}` };
    await fails(pcs, /describes FMSPC 112233445566/);
    pcs.faults.tcb = undefined;
    const qe = sim.collateral.qe_identity.replace('"TD_QE"', '"QE"');
    pcs.faults.qe = { body: `{"enclaveIdentity":${qe},"signature":"${sim.collateral.qe_identity_signature}"}` };
    await fails(pcs, /QE identity: /);
  });

  it('reports a missing issuer-chain header', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    pcs.faults.tcb = { omitHeaders: ['TCB-Info-Issuer-Chain'] };
    await fails(pcs, /TCB info: response has no TCB-Info-Issuer-Chain header/);
    pcs.faults.tcb = undefined;
    pcs.faults.pckcrl = { omitHeaders: ['SGX-PCK-CRL-Issuer-Chain'] };
    await fails(pcs, /PCK CRL: response has no SGX-PCK-CRL-Issuer-Chain header/);
  });

  it('reports a CRL body that is not a CRL', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    pcs.faults.rootcrl = { body: 'hello' };
    await fails(pcs, /root CA CRL: body is neither DER, PEM nor hex/);
    pcs.faults.rootcrl = { body: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]) };
    await fails(pcs, /root CA CRL: body is not an X.509 CRL/);
  });

  it('accepts CRLs served as PEM or hex text (PCCS variants)', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    const der = Buffer.from(sim.collateral.pck_crl, 'hex');
    pcs.faults.pckcrl = {
      body: `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`,
    };
    pcs.faults.rootcrl = { body: sim.collateral.root_ca_crl.toUpperCase() };
    expect(await source(pcs).fetch(SIM_FMSPC, 'platform')).toEqual(sim.collateral);
  });

  it('times out a PCS that does not answer', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    pcs.faults.qe = { delayMs: 2_000 };
    const started = Date.now();
    await fails(pcs, /QE identity: no response from .* within 200 ms/, SIM_FMSPC, 200);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('reports a connection failure', async () => {
    pcs = await startFakePcs(sim.collateral, SIM_FMSPC);
    const { baseUrl } = pcs;
    await pcs.close();
    const closed = createPcsCollateralSource({ baseUrl, rootCrlUrl: `${baseUrl}/IntelSGXRootCA.der` });
    await expect(closed.fetch(SIM_FMSPC, 'platform')).rejects.toThrow(/GET http:\/\/127\.0\.0\.1:\d+\/.* failed/);
  });
});

describe(rawJsonMember.name, () => {
  it('returns the exact source text of a member, whatever its formatting and escapes', () => {
    const inner = '{ "a" : [1, {"b":"x\\"}]"}], "c":"\\u00e9" }';
    expect(rawJsonMember(`{"s":"}{","k": ${inner} , "t":null}`, 'k')).toBe(inner);
    expect(rawJsonMember('{"k":-1.5e3}', 'k')).toBe('-1.5e3');
  });

  it('refuses duplicates, missing members, non-objects and bad JSON', () => {
    expect(() => rawJsonMember('{"k":1,"k":2}', 'k')).toThrow(/duplicate/);
    expect(() => rawJsonMember('{"j":1}', 'k')).toThrow(/no member/);
    expect(() => rawJsonMember('[1]', 'k')).toThrow(/not a JSON object/);
    expect(() => rawJsonMember('{"k":', 'k')).toThrow();
  });
});
