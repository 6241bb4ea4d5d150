import { z } from 'zod';

import type { TcbStatus, TdxVerificationReport } from '@secure-build/attestation';

import type { CheckList } from './verification-report';

/** TCB statuses from best to worst; a policy's `minTcbStatus` accepts it and everything before it. */
export const TCB_STATUS_ORDER: readonly TcbStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
];

const sha384Hex = z.string().regex(/^[0-9a-fA-F]{96}$/, 'must be 48 bytes as 96 hex characters');

/** Reference values for TEE evidence (see docs/trust-model.md, "Policy file"). */
export const teePolicyFields = {
  allowedTees: z
    .array(z.enum(['tdx', 'tdx-sim', 'ibm-se', 'ibm-se-sim']))
    .min(1)
    .optional(),
  tdx: z
    .object({
      mrtd: z.array(sha384Hex).min(1).optional(),
      rtmr0: z.array(sha384Hex).min(1).optional(),
      rtmr1: z.array(sha384Hex).min(1).optional(),
      rtmr2: z.array(sha384Hex).min(1).optional(),
      rtmr3: z.array(sha384Hex).min(1).optional(),
      mrconfigid: z.array(sha384Hex).min(1).optional(),
      minTcbStatus: z.enum(TCB_STATUS_ORDER as [TcbStatus, ...TcbStatus[]]).default('UpToDate'),
      allowedAdvisories: z.array(z.string().regex(/^INTEL-SA-\d{5}$/, 'must look like INTEL-SA-00123')).optional(),
    })
    .strict()
    .optional(),
  se: z
    .object({
      imageTags: z
        .array(z.string().regex(/^[0-9a-fA-F]{32}$/, 'must be 16 bytes as 32 hex characters'))
        .min(1)
        .optional(),
      hostKeyHashes: z
        .array(z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 32 bytes as 64 hex characters'))
        .min(1)
        .optional(),
      verifierKeys: z
        .array(z.string().refine((k) => k.includes('-----BEGIN PUBLIC KEY-----'), 'must be PEM public keys'))
        .min(1)
        .optional(),
    })
    .strict()
    .optional(),
};

/** The TEE part of a verification policy. */
export interface TeePolicy {
  allowedTees?: ('tdx' | 'tdx-sim' | 'ibm-se' | 'ibm-se-sim')[];
  tdx?: {
    mrtd?: string[];
    rtmr0?: string[];
    rtmr1?: string[];
    rtmr2?: string[];
    rtmr3?: string[];
    mrconfigid?: string[];
    minTcbStatus: TcbStatus;
    allowedAdvisories?: string[];
  };
  /** verifierKeys: PEM keys of the attestation services whose signed SE results are accepted */
  se?: { imageTags?: string[]; hostKeyHashes?: string[]; verifierKeys?: string[] };
}

const MEASUREMENTS = [
  ['mrtd', 'mrTd'],
  ['rtmr0', 'rtmr0'],
  ['rtmr1', 'rtmr1'],
  ['rtmr2', 'rtmr2'],
  ['rtmr3', 'rtmr3'],
  ['mrconfigid', 'mrConfigId'],
] as const;

/**
 * Checks verified TDX evidence against the policy's reference values. Each pinned measurement,
 * the debug attribute and the TCB status is its own named check.
 */
export function applyTdxPolicy(checks: CheckList, policy: TeePolicy, evidence: TdxVerificationReport): void {
  const tee = evidence.tee ?? 'unknown';
  if (policy.allowedTees) {
    checks.check(
      'policy.tee-type',
      policy.allowedTees.includes(tee as 'tdx'),
      `TEE type '${tee}' is not in the policy's allowedTees (${policy.allowedTees.join(', ')})`,
      tee,
    );
  }
  const td = evidence.td?.td;
  if (!td) return;
  const rules = policy.tdx ?? { minTcbStatus: 'UpToDate' as TcbStatus };
  for (const [name, field] of MEASUREMENTS) {
    const allowed = rules[name as keyof typeof rules] as string[] | undefined;
    if (!allowed) continue;
    const actual = td[field].toLowerCase();
    checks.check(
      `policy.tdx.${name}`,
      allowed.some((a) => a.toLowerCase() === actual),
      `${name.toUpperCase()} ${actual} is not among the policy's reference values`,
      actual,
    );
  }
  // Never negotiable: a debug TD's memory is readable by the host.
  checks.check(
    'policy.tdx.debug',
    !td.tdAttributes.debug,
    'the TD runs with DEBUG enabled (its memory is readable by the host)',
    'debug off',
  );
  const status = evidence.tcbStatus;
  const rank = status === undefined ? Infinity : TCB_STATUS_ORDER.indexOf(status);
  checks.check(
    'policy.tdx.tcb-status',
    rank <= TCB_STATUS_ORDER.indexOf(rules.minTcbStatus),
    `TCB status ${status ?? 'unknown'} is worse than the policy's minimum ${rules.minTcbStatus}`,
    status,
  );
  if (rules.allowedAdvisories && (evidence.advisoryIds?.length ?? 0) > 0) {
    const unexpected = (evidence.advisoryIds ?? []).filter((id) => !rules.allowedAdvisories?.includes(id));
    checks.check(
      'policy.tdx.advisories',
      unexpected.length === 0,
      `advisories not accepted by the policy: ${unexpected.join(', ')}`,
      (evidence.advisoryIds ?? []).join(', '),
    );
  }
}
