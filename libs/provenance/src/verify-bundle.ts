import type { KeyObject } from 'node:crypto';

import { Bundle, bundleFromJSON } from '@sigstore/bundle';

import {
  computeTeeBinding,
  SE_ATTESTATION_RESULT_MEDIA_TYPE,
  TdxCollateral,
  TdxVerificationReport,
  TRUST_ANCHORS,
  verifyTdxQuote,
} from '@secure-build/attestation';
import { sha256Hex } from '@secure-build/common';

import { buildEvidenceDigest, withoutBuildEvidence } from './build-evidence';
import { verifyDsseWithKey } from './dsse-verify';
import { parsePublicKeyCached } from './public-key-cache';
import { SeEvidenceVerdict, verifySeEvidence } from './se-evidence';
import {
  BUILDER_IDS,
  BYPRODUCT,
  BYPRODUCT_BUILD_EVIDENCE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  SLSA_PROVENANCE_V1,
} from './constants';
import { matchesPattern, VerificationPolicy } from './policy';
import { applyTdxPolicy } from './tee-policy';
import { ProvenanceStatement, ResourceDescriptor } from './statement.types';
import { CheckList, ProvenanceSummary, VerificationReport } from './verification-report';

/** Inputs besides the bundle: the policy, and optionally the image digest the deployer holds. */
export interface VerifyProvenanceOptions {
  policy: VerificationPolicy;
  /** `sha256:<hex>`: the subject must carry exactly this digest */
  imageDigest?: string;
  /** Time at which evidence and collateral must be valid; defaults to the statement's finishedOn. */
  asOf?: Date;
}

const TDX_QUOTE_MEDIA_TYPE = 'application/vnd.intel.tdx.quote.v4';

/**
 * Verifies a Sigstore bundle offline: DSSE signature, statement shape, the TEE evidence and its
 * binding to the signing key, the subject digest and the policy. Never throws on bad content;
 * every problem is a failed, named check.
 */
export function verifyProvenanceBundle(bundleJson: unknown, options: VerifyProvenanceOptions): VerificationReport {
  const checks = new CheckList();
  const summary: ProvenanceSummary = { subjects: [] };
  const report = (): VerificationReport => ({ verified: checks.ok, checks: checks.checks, summary });

  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(bundleJson);
  } catch (error) {
    checks.fail('bundle.format', `not a valid Sigstore bundle: ${message(error)}`);
    return report();
  }
  if (bundle.content.$case !== 'dsseEnvelope' || bundle.verificationMaterial.content.$case !== 'publicKey') {
    checks.fail('bundle.format', 'expected a DSSE envelope with a publicKey hint');
    return report();
  }
  checks.pass('bundle.format', bundle.mediaType);
  const envelope = bundle.content.dsseEnvelope;
  const hint = bundle.verificationMaterial.content.publicKey.hint;
  checks.check(
    'bundle.payload-type',
    envelope.payloadType === IN_TOTO_PAYLOAD_TYPE,
    `payloadType is '${envelope.payloadType}', expected '${IN_TOTO_PAYLOAD_TYPE}'`,
  );

  // Parse the exact bytes the signature covers; never a re-serialization.
  let statement: ProvenanceStatement;
  try {
    statement = JSON.parse(envelope.payload.toString('utf8')) as ProvenanceStatement;
    if (typeof statement !== 'object' || statement === null) throw new Error('payload is not a JSON object');
  } catch (error) {
    checks.fail('statement.parse', `payload is not JSON: ${message(error)}`);
    return report();
  }
  checks.check('statement.type', statement._type === IN_TOTO_STATEMENT_TYPE, `_type is '${String(statement._type)}'`);
  checks.check(
    'statement.predicate-type',
    statement.predicateType === SLSA_PROVENANCE_V1,
    `predicateType is '${String(statement.predicateType)}'`,
  );
  fillSummary(summary, statement);

  const byproducts = Array.isArray(statement.predicate?.runDetails?.byproducts)
    ? statement.predicate.runDetails.byproducts
    : [];
  const key = verifySigningKey(checks, bundle, hint, byproducts);
  if (key) verifySignature(checks, bundle, hint, key);

  const asOf = options.asOf ?? parseDate(statement.predicate?.runDetails?.metadata?.finishedOn) ?? new Date();
  const seDescriptor = byproducts.find(
    (b) => b?.name === BYPRODUCT.teeEvidence && b.mediaType === SE_ATTESTATION_RESULT_MEDIA_TYPE,
  );
  let evidence: TdxVerificationReport | undefined;
  let evidenceTee: string | undefined;
  if (key && seDescriptor) {
    const verdict = verifySeSection(checks, seDescriptor, key.spkiDer, options);
    evidenceTee = verdict.ok ? verdict.tee : undefined;
    summary.tee = verdict.tee;
  } else {
    evidence = key ? verifyEvidence(checks, summary, byproducts, key.spkiDer, asOf) : undefined;
    evidenceTee = evidence?.ok ? evidence.tee : undefined;
    if (evidence?.ok) applyTdxPolicy(checks, options.policy, evidence);
  }
  if (key)
    verifyBuildEvidence(
      checks,
      statement,
      byproducts,
      key.spkiDer,
      asOf,
      evidence,
      options.policy.requireBuildEvidence,
    );
  verifyBuilderAndPolicy(checks, statement, evidenceTee, options);
  return report();
}

function verifySigningKey(
  checks: CheckList,
  bundle: Bundle,
  hint: string,
  byproducts: ResourceDescriptor[],
): { key: KeyObject; spkiDer: Buffer } | undefined {
  const descriptor = byproducts.find((b) => b?.name === BYPRODUCT.signingKey);
  if (!descriptor?.content) {
    checks.fail('signing-key.present', "no 'signing-key' byproduct with the PEM public key");
    return undefined;
  }
  let key: KeyObject;
  let spkiDer: Buffer;
  try {
    ({ key, spkiDer } = parsePublicKeyCached(Buffer.from(descriptor.content, 'base64').toString('utf8')));
  } catch (error) {
    checks.fail('signing-key.present', `signing-key is not a PEM public key: ${message(error)}`);
    return undefined;
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    checks.fail('signing-key.present', 'signing-key must be ECDSA P-256');
    return undefined;
  }
  const spkiSha256 = sha256Hex(spkiDer);
  checks.pass('signing-key.present', `sha256 ${spkiSha256}`);
  const keyid = bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope.signatures[0]?.keyid : undefined;
  const hintOk = checks.check(
    'bundle.key-hint',
    hint === spkiSha256 && keyid === hint,
    `publicKey.hint '${hint}' and keyid '${keyid}' must both equal the SHA-256 of the signing key's SPKI (${spkiSha256})`,
  );
  return hintOk ? { key, spkiDer } : undefined;
}

function verifySignature(checks: CheckList, bundle: Bundle, hint: string, signer: { key: KeyObject }): void {
  try {
    verifyDsseWithKey(bundle, hint, signer.key);
    checks.pass('dsse.signature', 'ECDSA P-256 over the DSSE PAE');
  } catch (error) {
    checks.fail('dsse.signature', `signature does not verify with the bundle's signing key: ${message(error)}`);
  }
}

// Which builder.id each kind of verified evidence allows (a simulator never passes for hardware).
const BUILDER_ID_BY_EVIDENCE: Record<string, string> = {
  tdx: BUILDER_IDS.tdx,
  'tdx-sim': BUILDER_IDS['simulated-tdx'],
  'ibm-se': BUILDER_IDS['ibm-se'],
  'ibm-se-sim': BUILDER_IDS['simulated-ibm-se'],
};

function verifySeSection(
  checks: CheckList,
  descriptor: ResourceDescriptor,
  spkiDer: Buffer,
  options: VerifyProvenanceOptions,
): SeEvidenceVerdict {
  let result: unknown;
  try {
    const bytes = Buffer.from(descriptor.content ?? '', 'base64');
    if (sha256Hex(bytes) !== descriptor.digest?.sha256)
      throw new Error('tee-evidence digest does not match its content');
    result = JSON.parse(bytes.toString('utf8'));
    checks.pass('evidence.present', 'IBM SE attestation result');
  } catch (error) {
    checks.fail('evidence.present', `tee-evidence is not a readable SE result: ${message(error)}`);
    return { ok: false };
  }
  const workerRef = (descriptor.annotations as { binding?: { workerRef?: string } } | undefined)?.binding?.workerRef;
  const verdict = verifySeEvidence(checks, result, {
    signingKeySpkiDer: spkiDer,
    ...(workerRef ? { workerRef } : {}),
    policy: options.policy,
  });
  if (verdict.ok && options.policy.allowedTees && verdict.tee) {
    checks.check(
      'policy.tee-type',
      options.policy.allowedTees.includes(verdict.tee),
      `TEE type '${verdict.tee}' is not in the policy's allowedTees`,
      verdict.tee,
    );
  }
  return verdict;
}

function verifyEvidence(
  checks: CheckList,
  summary: ProvenanceSummary,
  byproducts: ResourceDescriptor[],
  spkiDer: Buffer,
  asOf: Date,
): TdxVerificationReport | undefined {
  const descriptor = byproducts.find((b) => b?.name === BYPRODUCT.teeEvidence);
  if (!descriptor?.content || descriptor.mediaType !== TDX_QUOTE_MEDIA_TYPE) {
    checks.fail('evidence.present', `no 'tee-evidence' byproduct with a ${TDX_QUOTE_MEDIA_TYPE}`);
    return undefined;
  }
  const annotations = (descriptor.annotations ?? {}) as {
    collateral?: TdxCollateral;
    binding?: { workerRef?: string };
  };
  if (!annotations.collateral || typeof annotations.collateral !== 'object') {
    checks.fail('evidence.present', 'tee-evidence carries no collateral');
    return undefined;
  }
  const quote = Buffer.from(descriptor.content, 'base64');
  checks.check(
    'evidence.present',
    sha256Hex(quote) === descriptor.digest?.sha256,
    'tee-evidence digest does not match its content',
    `${quote.length}-byte TDX quote`,
  );
  const expectedReportData = computeTeeBinding({
    purpose: 'worker-key',
    signingKeySpkiDer: spkiDer,
    ...(annotations.binding?.workerRef ? { workerRef: annotations.binding.workerRef } : {}),
  });
  const result = verifyTdxQuote({
    quote,
    collateral: annotations.collateral,
    trustAnchors: TRUST_ANCHORS,
    now: asOf,
    expectedReportData,
  });
  for (const c of result.checks) checks.check(`evidence.${c.name}`, c.ok, c.detail ?? 'failed', c.detail);
  summary.tee = result.tee;
  summary.tcbStatus = result.tcbStatus;
  return result;
}

function verifyBuilderAndPolicy(
  checks: CheckList,
  statement: ProvenanceStatement,
  evidenceTee: string | undefined,
  options: VerifyProvenanceOptions,
): void {
  const { policy } = options;
  const predicate = statement.predicate;
  const builderId = predicate?.runDetails?.builder?.id;
  const expectedBuilder = evidenceTee === undefined ? undefined : BUILDER_ID_BY_EVIDENCE[evidenceTee];
  checks.check(
    'builder.id',
    expectedBuilder !== undefined && builderId === expectedBuilder,
    `builder.id '${String(builderId)}' does not match the verified evidence (${evidenceTee ?? 'unverified'})`,
    builderId,
  );
  if (evidenceTee === 'tdx-sim' || evidenceTee === 'ibm-se-sim') {
    checks.check(
      'policy.allow-simulated',
      policy.allowSimulated,
      'evidence comes from the TEE simulator, which gives no hardware isolation; the policy does not allow it (allowSimulated: false)',
      'simulated evidence accepted by policy',
    );
  }

  if (options.imageDigest !== undefined) {
    const want = options.imageDigest.replace(/^sha256:/, '');
    const subjects = Array.isArray(statement.subject) ? statement.subject : [];
    checks.check(
      'subject.digest',
      subjects.some((s) => s?.digest?.sha256 === want),
      `no subject has digest ${options.imageDigest}`,
      options.imageDigest,
    );
  }

  const params = (predicate?.buildDefinition?.externalParameters ?? {}) as {
    source?: { repository?: unknown; ref?: unknown };
  };
  const repository = typeof params.source?.repository === 'string' ? params.source.repository : '';
  checks.check(
    'policy.repository',
    matchesPattern(repository, policy.repositories),
    `repository '${repository}' is not allowed by the policy`,
    repository,
  );
  if (policy.refs) {
    const ref = typeof params.source?.ref === 'string' ? params.source.ref : '';
    checks.check(
      'policy.ref',
      ref !== '' && matchesPattern(ref, policy.refs),
      ref ? `ref '${ref}' is not allowed by the policy` : 'the build records no ref, but the policy requires one',
      ref,
    );
  }
  const byproducts = Array.isArray(predicate?.runDetails?.byproducts) ? predicate.runDetails.byproducts : [];
  const reproducibility = (
    byproducts.find((b) => b?.name === BYPRODUCT.reproducibility)?.annotations as { result?: string } | undefined
  )?.result;
  if (policy.requireReproducible) {
    checks.check(
      'policy.reproducible',
      reproducibility === 'reproduced',
      `the build was not reproduced (${reproducibility ?? 'no result recorded'}); the policy requires a verified rebuild`,
      'rebuilt to the same digest',
    );
  }
  const sandbox = (predicate?.buildDefinition?.internalParameters as { sandbox?: { kind?: string } } | undefined)
    ?.sandbox;
  checks.check(
    'policy.sandbox',
    sandbox?.kind === 'bubblewrap' || (policy.allowInsecureSandbox && sandbox?.kind === 'none'),
    `the build ran with sandbox '${sandbox?.kind ?? 'unknown'}'; the policy requires the no-network bubblewrap sandbox`,
    sandbox?.kind,
  );
}

function verifyBuildEvidence(
  checks: CheckList,
  statement: ProvenanceStatement,
  byproducts: ResourceDescriptor[],
  spkiDer: Buffer,
  asOf: Date,
  keyEvidence: TdxVerificationReport | undefined,
  required: boolean,
): void {
  const descriptor = byproducts.find((b) => b?.name === BYPRODUCT_BUILD_EVIDENCE);
  if (!descriptor) {
    if (required)
      checks.fail(
        'build-evidence.present',
        'the policy requires a per-build quote binding this statement; the bundle has none',
      );
    return;
  }
  const annotations = (descriptor.annotations ?? {}) as {
    collateral?: TdxCollateral;
    binding?: { provenanceDigest?: string };
  };
  if (!descriptor.content || descriptor.mediaType !== TDX_QUOTE_MEDIA_TYPE || !annotations.collateral) {
    checks.fail(
      'build-evidence.present',
      `'${BYPRODUCT_BUILD_EVIDENCE}' must carry a ${TDX_QUOTE_MEDIA_TYPE} and its collateral`,
    );
    return;
  }
  const digest = buildEvidenceDigest(withoutBuildEvidence(statement));
  checks.check(
    'build-evidence.statement-digest',
    annotations.binding?.provenanceDigest === digest,
    `the per-build quote binds ${String(annotations.binding?.provenanceDigest)}, but the statement without it hashes to ${digest}`,
    digest,
  );
  const quote = Buffer.from(descriptor.content, 'base64');
  const expectedReportData = computeTeeBinding({
    purpose: 'provenance',
    signingKeySpkiDer: spkiDer,
    provenanceDigest: digest,
  });
  const result = verifyTdxQuote({
    quote,
    collateral: annotations.collateral,
    trustAnchors: TRUST_ANCHORS,
    now: asOf,
    expectedReportData,
  });
  for (const c of result.checks) checks.check(`build-evidence.${c.name}`, c.ok, c.detail ?? 'failed', c.detail);
  const a = keyEvidence?.td?.td;
  const b = result.td?.td;
  const sameTd =
    !!a &&
    !!b &&
    result.tee === keyEvidence?.tee &&
    a.mrTd === b.mrTd &&
    a.rtmr0 === b.rtmr0 &&
    a.rtmr1 === b.rtmr1 &&
    a.rtmr2 === b.rtmr2;
  checks.check(
    'build-evidence.same-td',
    sameTd,
    "the per-build quote comes from another TD than the signing key's evidence (MRTD/RTMR0-2 or TEE differ)",
    'same MRTD and RTMR0-2 as the key evidence',
  );
}

function fillSummary(summary: ProvenanceSummary, statement: ProvenanceStatement): void {
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  summary.subjects = subjects.map((s) => ({ name: s?.name, digest: s?.digest ?? {} }));
  const predicate = statement.predicate;
  const params = (predicate?.buildDefinition?.externalParameters ?? {}) as {
    source?: { repository?: string; ref?: string; commit?: string };
  };
  summary.builderId = predicate?.runDetails?.builder?.id;
  summary.repository = params.source?.repository;
  summary.ref = params.source?.ref;
  summary.commit = params.source?.commit;
  summary.finishedOn = predicate?.runDetails?.metadata?.finishedOn;
  const invocationId = predicate?.runDetails?.metadata?.invocationId;
  if (typeof invocationId === 'string') summary.invocationId = invocationId;
  const byproducts = Array.isArray(predicate?.runDetails?.byproducts) ? predicate.runDetails.byproducts : [];
  summary.reproducibility = (
    byproducts.find((b) => b?.name === BYPRODUCT.reproducibility)?.annotations as { result?: string } | undefined
  )?.result;
  summary.signingKeySha256 = byproducts.find((b) => b?.name === BYPRODUCT.signingKey)?.digest?.sha256;
}

function parseDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
