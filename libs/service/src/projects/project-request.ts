import { z } from 'zod';

import { IMAGE_NAME_RULE, isPushableImageName } from '../builds/image-name';
import { parseRecipePath } from '@secure-build/build';
import { describeSchemaIssue, hasControlCharacter, isDomainError } from '@secure-build/common';
import { parseGitRef, parseRepositoryUrl } from '@secure-build/source';

import { invalidField } from '../service.error';

const WEBHOOK_PROVIDERS = ['github', 'gitlab', 'gitea', 'forgejo'] as const;
/** Project names: also what a URL path must look like before it is looked up in the store. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const signaturePolicySchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z
    .object({
      mode: z.literal('ssh'),
      allowedSigners: z.union([
        z.string().min(1).max(65_536).refine(noControlCharacters, 'must not contain control characters'),
        z
          .array(z.string().min(1).max(8192).refine(noControlCharacters, 'must not contain control characters'))
          .min(1)
          .max(256),
      ]),
    })
    .strict(),
  z
    .object({
      mode: z.literal('openpgp'),
      fingerprints: z
        .array(z.string().regex(/^[0-9A-Fa-f]{40}$/, 'fingerprints must be 40 hex characters'))
        .min(1)
        .max(64),
      publicKeys: z
        .string()
        .min(1)
        .max(262_144)
        .refine((k) => k.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'), 'must be ASCII-armored OpenPGP public keys')
        .refine(noControlCharacters, 'must not contain control characters'),
    })
    .strict(),
]);

/** True when `name` can be a project name (anything else names no project). */
export function isProjectName(name: unknown): name is string {
  return typeof name === 'string' && PROJECT_NAME.test(name);
}

const projectFields = {
  name: z.string().regex(PROJECT_NAME, 'lower-case letters, digits, . _ - (max 63), starting with a letter or digit'),
  repository: z.string().min(1).max(2048),
  allowedRefs: z
    .array(z.string().min(1).max(1024))
    .min(1, 'list at least one ref (exact, or a prefix ending in *)')
    .max(100),
  recipePath: z.string().min(1).max(1024),
  imageName: z.string().refine(isPushableImageName, IMAGE_NAME_RULE).nullable(),
  webhook: z
    .object({
      provider: z.enum(WEBHOOK_PROVIDERS),
      secret: z
        .string()
        .min(16, 'must be at least 16 characters')
        .max(1024)
        .refine((s) => !hasControlCharacter(s), 'must not contain control characters'),
    })
    .strict()
    .nullable(),
  signaturePolicy: signaturePolicySchema,
};

/** Body of POST /v1/projects. */
export const createProjectSchema = z
  .object({
    ...projectFields,
    recipePath: projectFields.recipePath.optional(),
    imageName: projectFields.imageName.optional(),
    webhook: projectFields.webhook.optional(),
    signaturePolicy: signaturePolicySchema.optional(),
  })
  .strict();

/** Body of PATCH /v1/projects/{name}: any subset of the fields. */
export const updateProjectSchema = z.object(projectFields).partial().strict();

/** Signature policy of a project, as the worker enforces it (allowed signers normalized to file content). */
export type ProjectSignaturePolicy =
  | { mode: 'none' }
  | { mode: 'ssh'; allowedSigners: string }
  | { mode: 'openpgp'; fingerprints: string[]; publicKeys: string };

/** Validated project fields (secret still in clear: the service seals it). */
export interface ProjectFields {
  name: string;
  repository: string;
  allowedRefs: string[];
  recipePath: string;
  imageName: string | null;
  webhook: { provider: (typeof WEBHOOK_PROVIDERS)[number]; secret: string } | null;
  signaturePolicy: ProjectSignaturePolicy;
}

/** Validates a create body; errors name the field. */
export function parseCreateProject(body: unknown, options: { allowLocalRepos: boolean }): ProjectFields {
  const raw = parseWith(createProjectSchema, body);
  return {
    name: raw.name,
    repository: normalizeRepository(raw.repository, options),
    allowedRefs: raw.allowedRefs.map(validateRefPattern),
    recipePath: field('recipePath', () => parseRecipePath(raw.recipePath ?? 'securebuild.yaml')),
    imageName: raw.imageName ?? null,
    webhook: raw.webhook ?? null,
    signaturePolicy: normalizePolicy(raw.signaturePolicy ?? { mode: 'none' }),
  };
}

/** Validates a patch body; only the given fields are returned. */
export function parseUpdateProject(body: unknown, options: { allowLocalRepos: boolean }): Partial<ProjectFields> {
  const raw = parseWith(updateProjectSchema, body);
  const patch: Partial<ProjectFields> = {};
  if (raw.name !== undefined) patch.name = raw.name;
  if (raw.repository !== undefined) patch.repository = normalizeRepository(raw.repository, options);
  if (raw.allowedRefs !== undefined) patch.allowedRefs = raw.allowedRefs.map(validateRefPattern);
  if (raw.recipePath !== undefined)
    patch.recipePath = field('recipePath', () => parseRecipePath(raw.recipePath as string));
  if (raw.imageName !== undefined) patch.imageName = raw.imageName;
  if (raw.webhook !== undefined) patch.webhook = raw.webhook;
  if (raw.signaturePolicy !== undefined) patch.signaturePolicy = normalizePolicy(raw.signaturePolicy);
  return patch;
}

/** True when `ref` is allowed by a project's patterns (exact, or prefix for a trailing '*'). */
export function refAllowed(ref: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? ref.startsWith(p.slice(0, -1)) : ref === p));
}

function parseWith<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidField('body', 'must be a JSON object');
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { field: name, message } = describeSchemaIssue(parsed.error.issues[0], body);
    throw invalidField(name, message);
  }
  return parsed.data;
}

function validateRefPattern(pattern: string, index: number): string {
  const star = pattern.indexOf('*');
  if (star !== -1 && star !== pattern.length - 1)
    throw invalidField(`allowedRefs.${index}`, "'*' is only allowed at the end (a prefix)");
  // A prefix must itself be the start of a valid ref: check it with a placeholder completion.
  field(`allowedRefs.${index}`, () => parseGitRef(star === -1 ? pattern : `${pattern.slice(0, -1)}x`));
  return pattern;
}

function normalizeRepository(repository: string, options: { allowLocalRepos: boolean }): string {
  return field('repository', () => parseRepositoryUrl(repository, { allowLocal: options.allowLocalRepos }).display);
}

function normalizePolicy(policy: z.infer<typeof signaturePolicySchema>): ProjectSignaturePolicy {
  switch (policy.mode) {
    case 'none':
      return policy;
    case 'ssh':
      return {
        mode: 'ssh',
        allowedSigners: Array.isArray(policy.allowedSigners)
          ? `${policy.allowedSigners.join('\n')}\n`
          : policy.allowedSigners,
      };
    case 'openpgp':
      return {
        mode: 'openpgp',
        fingerprints: policy.fingerprints.map((f) => f.toUpperCase()),
        publicKeys: policy.publicKeys,
      };
  }
}

function field<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (isDomainError(error)) throw invalidField(name, error.message);
    throw error;
  }
}

/** No control characters other than tab and line breaks (PostgreSQL cannot even store NUL in jsonb). */
function noControlCharacters(text: string): boolean {
  return !hasControlCharacter(text.replace(/[\t\r\n]/g, ''));
}
