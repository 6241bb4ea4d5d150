import { createPrivateKey } from 'node:crypto';

import type { TdxCollateral } from '../collateral/collateral.types';
import { signRawEcdsa } from '../crypto/ecdsa';
import { SIMULATOR_TCB_SIGNING_KEY_PEM } from '../simulator/test-pki';
import type { TdxVerificationReport } from '../verify/verify-tdx-quote';

/** Offsets of a v4 quote with 32 bytes of QE auth data (attestation.md §1.2). */
export const V4 = {
  rtmr0: 376,
  reportData: 568,
  sigDataSize: 632,
  quoteSignature: 636,
  attestationKey: 700,
  certType: 764,
  certSize: 766,
  qeReport: 770,
  qeReportSignature: 1154,
  qeAuthSize: 1218,
  qeAuthData: 1220,
  chainType: 1252,
  chainSize: 1254,
  chain: 1258,
} as const;

/** Copy of `bytes` with the byte at `offset` XOR 0x01. */
export function flipByte(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] ^= 0x01;
  return copy;
}

/** Names of the failing checks, sorted. */
export function failedChecks(report: TdxVerificationReport): string[] {
  return report.checks
    .filter((check) => !check.ok)
    .map((check) => check.name)
    .sort();
}

/** Copy of simulator collateral with a tcbInfo or QE identity document edited and re-signed by the sim TCB key. */
export function resignSimulatorCollateral(
  collateral: TdxCollateral,
  doc: 'tcb_info' | 'qe_identity',
  edit: (value: Record<string, unknown>) => void,
): TdxCollateral {
  const value = JSON.parse(collateral[doc]) as Record<string, unknown>;
  edit(value);
  const json = JSON.stringify(value);
  const signature = signRawEcdsa(createPrivateKey(SIMULATOR_TCB_SIGNING_KEY_PEM), Buffer.from(json, 'utf8'));
  return { ...collateral, [doc]: json, [`${doc}_signature`]: signature.toString('hex') };
}
