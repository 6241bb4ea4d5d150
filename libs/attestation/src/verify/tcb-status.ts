import type { TdQeIdentity, TdxTcbInfo } from '../collateral/collateral.schema';
import type { TcbStatus } from '../collateral/collateral.types';
import type { SgxPckExtension } from '../pck/sgx-extension';
import type { TdReportBody } from '../tdx/quote.types';

/** Outcome of TCB level matching: the converged status, advisories, and the parts it came from. */
export interface TcbEvaluation {
  readonly status: TcbStatus;
  readonly advisoryIds: string[];
  readonly platform: TcbStatus;
  readonly tdxModule?: TcbStatus;
  readonly qe: TcbStatus;
}

interface IsvLevel {
  tcb: { isvsvn: number };
  tcbStatus: TcbStatus;
  advisoryIDs?: string[];
}

const firstIsvLevel = (levels: readonly IsvLevel[], svn: number): IsvLevel | undefined =>
  levels.find((level) => svn >= level.tcb.isvsvn);

/** The TDX module identity (`TDX_%02X` when TEE_TCB_SVN[1] > 0, else the plain `tdxModule`). */
export function tdxModuleFor(tcbInfo: TdxTcbInfo, teeTcbSvn: Buffer) {
  const major = teeTcbSvn[1];
  if (major === 0) return { id: undefined, module: tcbInfo.tdxModule, levels: undefined };
  const id = `TDX_${major.toString(16).toUpperCase().padStart(2, '0')}`;
  const identity = tcbInfo.tdxModuleIdentities?.find((candidate) => candidate.id === id);
  if (!identity) throw new Error(`tcbInfo has no TDX module identity ${id}`);
  return { id, module: identity, levels: identity.tcbLevels };
}

/** Check `tcb.tdx-module`: MRSIGNERSEAM and SEAMATTRIBUTES match the module identity. */
export function checkTdxModule(tcbInfo: TdxTcbInfo, body: TdReportBody): string {
  const { id, module } = tdxModuleFor(tcbInfo, body.teeTcbSvn);
  if (!body.mrSignerSeam.equals(Buffer.from(module.mrsigner, 'hex'))) {
    throw new Error(`MRSIGNERSEAM does not match ${id ?? 'tdxModule'}`);
  }
  const mask = Buffer.from(module.attributesMask, 'hex');
  const expected = Buffer.from(module.attributes, 'hex');
  if (body.seamAttributes.some((byte, i) => (byte & mask[i]) !== (expected[i] & mask[i]))) {
    throw new Error(`SEAMATTRIBUTES do not match ${id ?? 'tdxModule'}`);
  }
  return id ?? 'tdxModule';
}

function converge(platform: TcbStatus, other: TcbStatus | undefined): TcbStatus {
  if (other === 'Revoked' || platform === 'Revoked') return 'Revoked';
  if (other !== 'OutOfDate' && other !== 'OutOfDateConfigurationNeeded') return platform;
  if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
  if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') {
    return 'OutOfDateConfigurationNeeded';
  }
  return platform;
}

/**
 * Matches the platform against tcbInfo (first level where every PCK SGX SVN, the PCESVN and the
 * TEE_TCB_SVN components are >= the level's; components 0 and 1 are rated by the module identity
 * when TEE_TCB_SVN[1] > 0), rates the TDX module and the QE, and converges the statuses.
 */
export function evaluateTcb(
  tcbInfo: TdxTcbInfo,
  qeIdentity: TdQeIdentity,
  pck: SgxPckExtension,
  body: TdReportBody,
  qeIsvSvn: number,
): TcbEvaluation {
  const svn = body.teeTcbSvn;
  const skipModule = svn[1] > 0;
  const level = tcbInfo.tcbLevels.find(
    (candidate) =>
      pck.tcb.pceSvn >= candidate.tcb.pcesvn &&
      candidate.tcb.sgxtcbcomponents.every((c, i) => pck.tcb.sgxTcbComponents[i] >= c.svn) &&
      candidate.tcb.tdxtcbcomponents.every((c, i) => (skipModule && i < 2) || svn[i] >= c.svn),
  );
  if (!level) throw new Error('no tcbInfo TCB level matches the platform (TCB not supported)');
  const { id, levels } = tdxModuleFor(tcbInfo, svn);
  const moduleLevel = levels ? firstIsvLevel(levels, svn[0]) : undefined;
  if (levels && !moduleLevel) throw new Error(`no ${id} TCB level matches TDX module SVN ${svn[0]}`);
  const qeLevel = firstIsvLevel(qeIdentity.tcbLevels, qeIsvSvn);
  if (!qeLevel) throw new Error(`no QE identity TCB level matches QE ISVSVN ${qeIsvSvn}`);
  const status = converge(converge(level.tcbStatus, moduleLevel?.tcbStatus), qeLevel.tcbStatus);
  const advisoryIds = [
    ...new Set([...(level.advisoryIDs ?? []), ...(moduleLevel?.advisoryIDs ?? []), ...(qeLevel.advisoryIDs ?? [])]),
  ];
  return { status, advisoryIds, platform: level.tcbStatus, tdxModule: moduleLevel?.tcbStatus, qe: qeLevel.tcbStatus };
}
