import { describe, expect, it } from 'vitest';

import type { TdQeIdentity, TdxTcbInfo } from '../collateral/collateral.schema';
import type { TcbStatus } from '../collateral/collateral.types';
import { SIMULATED_PLATFORM } from '../simulator/platform';
import type { TdReportBody } from '../tdx/quote.types';
import { evaluateTcb, tdxModuleFor } from './tcb-status';

const components = (values: number[]) => values.map((svn) => ({ svn }));
const SGX = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
const TDX = [5, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const MODULE = { mrsigner: '00'.repeat(48), attributes: '00'.repeat(8), attributesMask: 'ff'.repeat(8) };
const DATE = '2024-01-01T00:00:00Z';

function tcbInfo(levels: { sgx?: number[]; tdx?: number[]; pcesvn?: number; status: TcbStatus }[]): TdxTcbInfo {
  return {
    id: 'TDX',
    version: 3,
    issueDate: DATE,
    nextUpdate: DATE,
    fmspc: '00aabbcc0000',
    pceId: '0000',
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: MODULE,
    tdxModuleIdentities: [
      {
        id: 'TDX_01',
        ...MODULE,
        tcbLevels: [
          { tcb: { isvsvn: 6 }, tcbDate: DATE, tcbStatus: 'UpToDate' },
          { tcb: { isvsvn: 2 }, tcbDate: DATE, tcbStatus: 'OutOfDate', advisoryIDs: ['INTEL-SA-1'] },
        ],
      },
    ],
    tcbLevels: levels.map((l) => ({
      tcb: {
        sgxtcbcomponents: components(l.sgx ?? SGX),
        pcesvn: l.pcesvn ?? 11,
        tdxtcbcomponents: components(l.tdx ?? TDX),
      },
      tcbDate: DATE,
      tcbStatus: l.status,
    })),
  };
}

const qeIdentity = (status: TcbStatus): TdQeIdentity => ({
  id: 'TD_QE',
  version: 2,
  issueDate: DATE,
  nextUpdate: DATE,
  tcbEvaluationDataNumber: 17,
  miscselect: '00000000',
  miscselectMask: 'ffffffff',
  attributes: '11'.padEnd(32, '0'),
  attributesMask: 'fb'.padEnd(32, 'f'),
  mrsigner: 'aa'.repeat(32),
  isvprodid: 2,
  tcbLevels: [{ tcb: { isvsvn: 4 }, tcbDate: DATE, tcbStatus: status }],
});

const body = (teeTcbSvn: number[]): TdReportBody =>
  ({ teeTcbSvn: Buffer.from([...teeTcbSvn, ...Array<number>(16 - teeTcbSvn.length).fill(0)]) }) as TdReportBody;

describe(evaluateTcb.name, () => {
  it('takes the first level the platform meets and rates the module by TEE_TCB_SVN[0]', () => {
    const info = tcbInfo([{ sgx: SGX.map((v) => v + 1), status: 'UpToDate' }, { status: 'SWHardeningNeeded' }]);
    const result = evaluateTcb(info, qeIdentity('UpToDate'), SIMULATED_PLATFORM, body([6, 1, 2]), 4);
    expect(result).toMatchObject({ status: 'SWHardeningNeeded', platform: 'SWHardeningNeeded', tdxModule: 'UpToDate' });
  });

  it('converges an OutOfDate TDX module into OutOfDate with its advisories', () => {
    const result = evaluateTcb(
      tcbInfo([{ status: 'UpToDate' }]),
      qeIdentity('UpToDate'),
      SIMULATED_PLATFORM,
      body([5, 1, 2]),
      4,
    );
    expect(result).toMatchObject({ status: 'OutOfDate', tdxModule: 'OutOfDate', advisoryIds: ['INTEL-SA-1'] });
  });

  it('converges an OutOfDate QE with ConfigurationNeeded into OutOfDateConfigurationNeeded', () => {
    const info = tcbInfo([{ status: 'ConfigurationNeeded' }]);
    const result = evaluateTcb(info, qeIdentity('OutOfDate'), SIMULATED_PLATFORM, body([6, 1, 2]), 4);
    expect(result.status).toBe('OutOfDateConfigurationNeeded');
  });

  it('compares TEE_TCB_SVN[0..1] against the level only when the module major version is 0', () => {
    const info = tcbInfo([{ tdx: [7, 0, 2, ...Array<number>(13).fill(0)], status: 'UpToDate' }]);
    expect(() => evaluateTcb(info, qeIdentity('UpToDate'), SIMULATED_PLATFORM, body([6, 0, 2]), 4)).toThrow(
      /no tcbInfo TCB level/,
    );
    expect(evaluateTcb(info, qeIdentity('UpToDate'), SIMULATED_PLATFORM, body([6, 1, 2]), 4).status).toBe('UpToDate');
  });

  it('throws when the PCESVN is below every level', () => {
    const info = tcbInfo([{ pcesvn: 12, status: 'UpToDate' }]);
    expect(() => evaluateTcb(info, qeIdentity('UpToDate'), SIMULATED_PLATFORM, body([6, 1, 2]), 4)).toThrow(
      /TCB not supported/,
    );
  });

  it('throws when the quote names a module identity the tcbInfo lacks', () => {
    expect(() => tdxModuleFor(tcbInfo([{ status: 'UpToDate' }]), Buffer.from([5, 3]))).toThrow(/TDX_03/);
  });
});
