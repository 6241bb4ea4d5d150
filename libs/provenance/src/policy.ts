import { parseDocument } from 'yaml';
import { z } from 'zod';

import { describeSchemaIssue, DomainError } from '@secure-build/common';

import { teePolicyFields } from './tee-policy';

const pattern = z
  .string()
  .min(1)
  .refine((p) => !p.slice(0, -1).includes('*'), "'*' is only allowed as the last character (a prefix match)");

const policySchema = z
  .object({
    allowSimulated: z.boolean().default(false),
    repositories: z.array(pattern).min(1, 'list at least one repository (exact URL or prefix ending in *)'),
    refs: z.array(pattern).min(1).optional(),
    requireReproducible: z.boolean().default(true),
    allowInsecureSandbox: z.boolean().default(false),
    requireBuildEvidence: z.boolean().default(false),
    ...teePolicyFields,
  })
  .strict();

/** An auditor's verification policy (docs/trust-model.md explains each field). */
export type VerificationPolicy = z.infer<typeof policySchema>;

/** Raised when a policy file is not valid; this is an input error, not a failed verification. */
export class PolicyFileError extends DomainError<'POLICY_INVALID'> {}

/** Parses a policy from YAML (or JSON) text; `source` names the file in messages. */
export function parsePolicy(text: string, source = 'policy'): VerificationPolicy {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyFileError('POLICY_INVALID', `${source}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 0 });
  } catch {
    throw new PolicyFileError('POLICY_INVALID', `${source}: YAML aliases are not allowed`);
  }
  const result = policySchema.safeParse(data ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const { field, message } = describeSchemaIssue(issue, data ?? {});
      return `${field}: ${message}${message === 'unknown field' ? '(s)' : ''}`;
    });
    throw new PolicyFileError('POLICY_INVALID', `${source}: ${issues.join('; ')}`);
  }
  return result.data;
}

/** Exact match, or prefix match for patterns ending in '*'. */
export function matchesPattern(value: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? value.startsWith(p.slice(0, -1)) : value === p));
}
