import { timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

import { AttestationInputError } from '../errors';
import { describeBootHdrTags, type BootHdrTags } from './se-header';
import type { SeVerificationReport } from './se-verifier';

/**
 * Predicate type of the attestation service's SE result. Persistent identifier: do not change without a
 * migration, verifiers of stored bundles match on it.
 */
export const SE_ATTESTATION_PREDICATE_TYPE = 'https://securebuild.dev/attestation/ibm-se/v1';
/** Subject name of the attested key (persistent, see SE_ATTESTATION_PREDICATE_TYPE). */
export const SE_WORKER_KEY_SUBJECT_NAME = 'worker-signing-key';
/** Trust model marker shared with provenance (attestation.md §5.3). */
export const SE_TEE_EVIDENCE_TYPE = 'ibm-se-hmac-via-verifier';
const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes} bytes, lower-case hex`);

const predicateSchema = z
  .object({
    verifier: z.object({ id: z.string().min(1) }).strict(),
    timeVerified: z.iso.datetime(),
    result: z.enum(['PASSED', 'FAILED']),
    teeEvidenceType: z.literal(SE_TEE_EVIDENCE_TYPE),
    simulated: z.boolean(),
    se: z
      .object({
        cuid: hex(16).optional(),
        tags: z.object({ pld: hex(64), ald: hex(64), tld: hex(64), tag: hex(16) }).strict(),
        imagePhkh: hex(32).optional(),
        attestationPhkh: hex(32).optional(),
        userData: z
          .string()
          .regex(/^([0-9a-f]{2}){0,256}$/)
          .optional(),
        measurement: hex(64).optional(),
      })
      .strict(),
    binding: z.object({ teeBinding: hex(64), userDataMatches: z.boolean() }).strict(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() }).strict()),
  })
  .strict();

const statementSchema = z
  .object({
    _type: z.literal(IN_TOTO_STATEMENT_V1),
    subject: z
      .array(
        z
          .object({ name: z.literal(SE_WORKER_KEY_SUBJECT_NAME), digest: z.object({ sha256: hex(32) }).strict() })
          .strict(),
      )
      .length(1),
    predicateType: z.literal(SE_ATTESTATION_PREDICATE_TYPE),
    predicate: predicateSchema,
  })
  .strict();

/** The SE attestation result predicate. */
export type SeAttestationPredicate = z.infer<typeof predicateSchema>;
/** in-toto Statement v1 whose subject is the worker signing key and whose predicate is the SE result. */
export type SeAttestationStatement = z.infer<typeof statementSchema>;

/** Inputs of `buildSeAttestationResult`. */
export interface BuildSeAttestationResultInput {
  /** The report of verifySeAttestation for the worker's response. */
  readonly report: SeVerificationReport;
  /** Lower-case hex SHA-256 of the worker signing key's SPKI DER. */
  readonly workerKeySpkiSha256: string;
  /** The 64-byte binding (attestation.md §8) the worker had to put into the SE user data. */
  readonly teeBinding: Buffer;
  /** The SE image tags the measurement was checked against. */
  readonly header: BootHdrTags;
  /** Identifier of this attestation service instance (e.g. its URL). */
  readonly verifierId: string;
  /** True when the request was made for the simulator's TEST host key; production policies refuse it. */
  readonly simulated: boolean;
  /** Verification time; defaults to now. */
  readonly now?: Date;
}

/**
 * Builds the in-toto statement the attestation service signs (DSSE, by the caller) after verifying SE
 * evidence. PASSED only when the report is ok and the user data equals the worker key's binding.
 */
export function buildSeAttestationResult(input: BuildSeAttestationResultInput): SeAttestationStatement {
  if (!/^[0-9a-f]{64}$/.test(input.workerKeySpkiSha256)) {
    throw new AttestationInputError('SE result: workerKeySpkiSha256 must be 64 lower-case hex characters');
  }
  if (!Buffer.isBuffer(input.teeBinding) || input.teeBinding.length !== 64) {
    throw new AttestationInputError('SE result: teeBinding must be the 64-byte binding');
  }
  if (typeof input.verifierId !== 'string' || input.verifierId.length === 0) {
    throw new AttestationInputError('SE result: verifierId must be a non-empty string');
  }
  if (typeof input.simulated !== 'boolean') throw new AttestationInputError('SE result: simulated must be a boolean');
  const now = input.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new AttestationInputError('SE result: bad now');
  const { report } = input;
  const userData = report.userData;
  const userDataMatches =
    userData !== undefined &&
    userData.length === input.teeBinding.length &&
    timingSafeEqual(userData, input.teeBinding);

  const statement = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: SE_WORKER_KEY_SUBJECT_NAME, digest: { sha256: input.workerKeySpkiSha256 } }],
    predicateType: SE_ATTESTATION_PREDICATE_TYPE,
    predicate: {
      verifier: { id: input.verifierId },
      timeVerified: now.toISOString(),
      result: report.ok && userDataMatches ? 'PASSED' : 'FAILED',
      teeEvidenceType: SE_TEE_EVIDENCE_TYPE,
      simulated: input.simulated,
      se: {
        cuid: report.cuid?.toString('hex'),
        tags: describeBootHdrTags(input.header),
        imagePhkh: report.additionalData?.imagePhkh?.toString('hex'),
        attestationPhkh: report.additionalData?.attestationPhkh?.toString('hex'),
        userData: userData?.toString('hex'),
        measurement: report.measurement?.toString('hex'),
      },
      binding: { teeBinding: input.teeBinding.toString('hex'), userDataMatches },
      checks: report.checks.map((check) => ({ name: check.name, ok: check.ok, detail: check.detail })),
    },
  };
  return validateSeAttestationResult(JSON.parse(JSON.stringify(statement)));
}

/**
 * Validates a decoded SE result statement (e.g. the payload of a verified DSSE envelope); throws
 * AttestationInputError naming the first problem.
 */
export function validateSeAttestationResult(value: unknown): SeAttestationStatement {
  const parsed = statementSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AttestationInputError(`SE result: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      issues: parsed.error.issues.length,
    });
  }
  return parsed.data;
}
