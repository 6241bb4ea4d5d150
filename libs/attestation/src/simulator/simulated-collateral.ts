import { createPrivateKey } from 'node:crypto';

import type { TdxCollateral } from '../collateral/collateral.types';
import { signRawEcdsa } from '../crypto/ecdsa';
import type { SgxPckExtension } from '../pck/sgx-extension';
import { SIMULATED_QE } from './measurements';
import {
  SIMULATOR_PCK_CRL_HEX,
  SIMULATOR_PCK_PLATFORM_CA_PEM,
  SIMULATOR_ROOT_CA_CRL_HEX,
  SIMULATOR_ROOT_CA_PEM,
  SIMULATOR_TCB_SIGNING_KEY_PEM,
  SIMULATOR_TCB_SIGNING_PEM,
} from './test-pki';

const COLLATERAL_LIFETIME_MS = 30 * 24 * 3600 * 1000;
const TCB_DATE = '2024-01-01T00:00:00Z';
const ZERO_48 = '00'.repeat(48);
const MODULE = { mrsigner: ZERO_48.toUpperCase(), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' };

/** Intel's date format: ISO 8601 UTC without milliseconds. */
const intelDate = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What the simulated platform reports, from which matching collateral is derived. */
export interface SimulatedPlatformFacts {
  readonly pck: SgxPckExtension;
  readonly teeTcbSvn: Buffer;
}

/** tcbInfo v3 whose single UpToDate level equals the platform's values (so the platform is UpToDate). */
function tcbInfoJson(facts: SimulatedPlatformFacts, now: Date): string {
  const svn = facts.teeTcbSvn;
  const components = (values: ArrayLike<number>) => Array.from(values, (v) => ({ svn: v }));
  return JSON.stringify({
    id: 'TDX',
    version: 3,
    issueDate: intelDate(now),
    nextUpdate: intelDate(new Date(now.getTime() + COLLATERAL_LIFETIME_MS)),
    fmspc: facts.pck.fmspc.toString('hex').toUpperCase(),
    pceId: facts.pck.pceId.toString('hex').toUpperCase(),
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: MODULE,
    tdxModuleIdentities: [
      {
        id: `TDX_${svn[1].toString(16).toUpperCase().padStart(2, '0')}`,
        ...MODULE,
        tcbLevels: [{ tcb: { isvsvn: svn[0] }, tcbDate: TCB_DATE, tcbStatus: 'UpToDate' }],
      },
    ],
    tcbLevels: [
      {
        tcb: {
          sgxtcbcomponents: components(facts.pck.tcb.sgxTcbComponents),
          pcesvn: facts.pck.tcb.pceSvn,
          tdxtcbcomponents: components(svn.map((v, i) => (i === 1 ? 0 : v))),
        },
        tcbDate: TCB_DATE,
        tcbStatus: 'UpToDate',
      },
    ],
  });
}

/** TD_QE identity v2 for the simulated quoting enclave. */
function qeIdentityJson(now: Date): string {
  return JSON.stringify({
    id: 'TD_QE',
    version: 2,
    issueDate: intelDate(now),
    nextUpdate: intelDate(new Date(now.getTime() + COLLATERAL_LIFETIME_MS)),
    tcbEvaluationDataNumber: 17,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: SIMULATED_QE.attributes.toUpperCase(),
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: SIMULATED_QE.mrSigner.toUpperCase(),
    isvprodid: SIMULATED_QE.isvProdId,
    tcbLevels: [{ tcb: { isvsvn: SIMULATED_QE.isvSvn }, tcbDate: TCB_DATE, tcbStatus: 'UpToDate' }],
  });
}

/** Builds collateral for the simulator (issueDate = now, nextUpdate = now + 30 days), signed by its TCB key. */
export function buildSimulatedCollateral(facts: SimulatedPlatformFacts, now: Date): TdxCollateral {
  const key = createPrivateKey(SIMULATOR_TCB_SIGNING_KEY_PEM);
  const tcbInfo = tcbInfoJson(facts, now);
  const qeIdentity = qeIdentityJson(now);
  const tcbChain = SIMULATOR_TCB_SIGNING_PEM + SIMULATOR_ROOT_CA_PEM;
  return {
    pck_crl_issuer_chain: SIMULATOR_PCK_PLATFORM_CA_PEM + SIMULATOR_ROOT_CA_PEM,
    root_ca_crl: SIMULATOR_ROOT_CA_CRL_HEX,
    pck_crl: SIMULATOR_PCK_CRL_HEX,
    tcb_info_issuer_chain: tcbChain,
    tcb_info: tcbInfo,
    tcb_info_signature: signRawEcdsa(key, Buffer.from(tcbInfo, 'utf8')).toString('hex'),
    qe_identity_issuer_chain: tcbChain,
    qe_identity: qeIdentity,
    qe_identity_signature: signRawEcdsa(key, Buffer.from(qeIdentity, 'utf8')).toString('hex'),
  };
}
