import { parseDocument } from 'yaml';
import { z } from 'zod';

import {
  computeTeeBinding,
  TdxCollateral,
  TeeEvidence,
  TRUST_ANCHORS,
  verifyTdxQuote,
} from '@secure-build/attestation';
import { describeSchemaIssue } from '@secure-build/common';

import { PolicyFileError } from './policy';
import { verifySeEvidence } from './se-evidence';
import { applyTdxPolicy, TeePolicy, teePolicyFields } from './tee-policy';
import { CheckList, VerificationCheck } from './verification-report';

const builderPolicySchema = z.object({ allowSimulated: z.boolean().default(false), ...teePolicyFields }).strict();

/** What the service requires of a worker's TEE evidence before it may take builds. */
export type BuilderPolicy = z.infer<typeof builderPolicySchema>;

/** Parses a builder policy (YAML or JSON): allowSimulated plus the TEE reference values of verification policies. */
export function parseBuilderPolicy(text: string, source = 'builder policy'): BuilderPolicy {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new PolicyFileError('POLICY_INVALID', `${source}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const data: unknown = doc.toJS({ maxAliasCount: 0 }) ?? {};
  const parsed = builderPolicySchema.safeParse(data);
  if (!parsed.success) {
    const { field, message } = describeSchemaIssue(parsed.error.issues[0], data);
    throw new PolicyFileError('POLICY_INVALID', `${source}: ${field}: ${message}`);
  }
  return parsed.data;
}

/** The default builder policy: hardware only, unless the deployment itself runs the simulator. */
export function defaultBuilderPolicy(allowSimulated: boolean): BuilderPolicy {
  return builderPolicySchema.parse({ allowSimulated });
}

/** The verdict on one worker's evidence, shown by GET /v1/builders. */
export interface BuilderAssessment {
  trusted: boolean;
  tee?: string;
  tcbStatus?: string;
  advisoryIds?: string[];
  measurements?: {
    mrtd: string;
    rtmr0: string;
    rtmr1: string;
    rtmr2: string;
    rtmr3: string;
    mrconfigid: string;
    debug: boolean;
  };
  failed: VerificationCheck[];
  assessedAt: string;
}

/** Verifies a worker's key evidence (chain, collateral, binding to its key) against the builder policy. */
export function assessBuilderEvidence(input: {
  evidence: TeeEvidence;
  signingKeySpkiDer: Buffer;
  workerRef?: string;
  policy: BuilderPolicy;
  now: Date;
}): BuilderAssessment {
  const checks = new CheckList();
  if (input.evidence.format === 'ibm-se-attestation-result') {
    const verdict = verifySeEvidence(checks, input.evidence.result, {
      signingKeySpkiDer: input.signingKeySpkiDer,
      workerRef: input.workerRef,
      policy: input.policy,
    });
    if (verdict.ok && verdict.tee === 'ibm-se-sim') {
      checks.check(
        'policy.allow-simulated',
        input.policy.allowSimulated,
        'simulated SE evidence (no isolation); the builder policy does not allow it',
      );
    }
    if (verdict.ok && input.policy.allowedTees && verdict.tee) {
      checks.check(
        'policy.tee-type',
        input.policy.allowedTees.includes(verdict.tee),
        `TEE type '${verdict.tee}' is not allowed`,
        verdict.tee,
      );
    }
    return {
      trusted: checks.ok,
      tee: verdict.tee,
      failed: checks.checks.filter((c) => !c.ok),
      assessedAt: input.now.toISOString(),
    };
  }
  return assessTdx(checks, { ...input, quote: input.evidence.quote, collateral: input.evidence.collateral });
}

function assessTdx(
  checks: CheckList,
  input: {
    quote: Buffer;
    collateral: TdxCollateral;
    signingKeySpkiDer: Buffer;
    workerRef?: string;
    policy: BuilderPolicy;
    now: Date;
  },
): BuilderAssessment {
  const expectedReportData = computeTeeBinding({
    purpose: 'worker-key',
    signingKeySpkiDer: input.signingKeySpkiDer,
    ...(input.workerRef ? { workerRef: input.workerRef } : {}),
  });
  const result = verifyTdxQuote({
    quote: input.quote,
    collateral: input.collateral,
    trustAnchors: TRUST_ANCHORS,
    now: input.now,
    expectedReportData,
  });
  for (const c of result.checks) checks.check(`evidence.${c.name}`, c.ok, c.detail ?? 'failed', c.detail);
  if (result.ok) {
    applyTdxPolicy(checks, input.policy as TeePolicy, result);
    if (result.tee === 'tdx-sim') {
      checks.check(
        'policy.allow-simulated',
        input.policy.allowSimulated,
        'simulated evidence (no isolation); the builder policy does not allow it',
      );
    }
  }
  const td = result.td?.td;
  return {
    trusted: checks.ok,
    tee: result.tee,
    tcbStatus: result.tcbStatus,
    advisoryIds: result.advisoryIds,
    ...(td
      ? {
          measurements: {
            mrtd: td.mrTd,
            rtmr0: td.rtmr0,
            rtmr1: td.rtmr1,
            rtmr2: td.rtmr2,
            rtmr3: td.rtmr3,
            mrconfigid: td.mrConfigId,
            debug: td.tdAttributes.debug,
          },
        }
      : {}),
    failed: checks.checks.filter((c) => !c.ok),
    assessedAt: input.now.toISOString(),
  };
}
