import { createHash } from 'node:crypto';

/** Names of the TD measurement registers a simulated quote lets callers set. */
export type SimulatedMeasurementName =
  'mrtd' | 'rtmr0' | 'rtmr1' | 'rtmr2' | 'rtmr3' | 'mrconfigid' | 'mrowner' | 'mrownerconfig';

const label = (name: string): string => createHash('sha384').update(`securebuild.dev/tee-sim/${name}/v1`).digest('hex');

/**
 * Fixed fake measurements of the simulated worker image: each is SHA-384 of the ASCII label
 * `securebuild.dev/tee-sim/<name>/v1` (MROWNER and MROWNERCONFIG are zero, as on typical hosts).
 * They identify "the simulator image" in reference values; they measure nothing.
 */
export const SIMULATED_MEASUREMENTS: Readonly<Record<SimulatedMeasurementName, string>> = Object.freeze({
  mrtd: label('mrtd'),
  rtmr0: label('rtmr0'),
  rtmr1: label('rtmr1'),
  rtmr2: label('rtmr2'),
  rtmr3: label('rtmr3'),
  mrconfigid: label('mrconfigid'),
  mrowner: '00'.repeat(48),
  mrownerconfig: '00'.repeat(48),
});

/** Fixed TD report fields of the simulated TDX module and TD (see attestation.md §4). */
export const SIMULATED_TD = Object.freeze({
  /** Module minor SVN 5, major 1 (→ identity TDX_01), SEAM patch 2. */
  teeTcbSvn: '05010200000000000000000000000000',
  mrSeam: label('mrseam'),
  mrSignerSeam: '00'.repeat(48),
  seamAttributes: '0000000000000000',
  /** SEPT_VE_DISABLE set, not DEBUG. */
  tdAttributes: '0000001000000000',
  xfam: 'e702060000000000',
});

/** Fixed identity of the simulated TD quoting enclave. */
export const SIMULATED_QE = Object.freeze({
  mrSigner: createHash('sha256').update('securebuild.dev/tee-sim/td-qe-mrsigner/v1').digest('hex'),
  mrEnclave: createHash('sha256').update('securebuild.dev/tee-sim/td-qe-mrenclave/v1').digest('hex'),
  attributes: '11000000000000000000000000000000',
  isvProdId: 2,
  isvSvn: 4,
  /** Header QE ID: ASCII "TEE-SIM" zero-padded to 16 bytes. */
  qeId: Buffer.from('TEE-SIM', 'ascii').toString('hex').padEnd(32, '0'),
});
