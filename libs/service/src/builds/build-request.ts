import { z } from 'zod';

import { IMAGE_NAME_RULE, isPushableImageName } from './image-name';
import { canonicalJson, describeSchemaIssue, isDomainError, sha256Hex } from '@secure-build/common';
import { parseRecipePath } from '@secure-build/build';
import { parseCommitSha, parseGitRef, parseRepositoryUrl } from '@secure-build/source';

import { invalidField } from '../service.error';

/** JSON body of POST /v1/builds. */
export const submitBuildBodySchema = z
  .object({
    repository: z.string().min(1).max(2048).describe('https or ssh URL (local paths only when the server allows them)'),
    commit: z.string().min(1).max(64).describe('full commit SHA, 40 or 64 hex'),
    ref: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('refs/heads/<branch> or refs/tags/<tag> the commit was taken from'),
    recipePath: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('recipe path in the repository (default securebuild.yaml)'),
    imageName: z.string().min(1).max(512).optional().describe('image name, e.g. registry.example.com/org/wallet:1.0'),
  })
  .strict();

/** A validated, normalized build request. */
export interface BuildRequest {
  repository: string;
  commit: string;
  ref?: string;
  recipePath: string;
  imageName?: string;
}

/** Validates a submitted body; every error names its field. */
export function parseBuildRequest(body: unknown, options: { allowLocalRepos: boolean }): BuildRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidField('body', 'must be a JSON object {repository, commit, ref?, recipePath?, imageName?}');
  }
  const parsed = submitBuildBodySchema.safeParse(body);
  if (!parsed.success) {
    const { field, message } = describeSchemaIssue(parsed.error.issues[0], body);
    throw invalidField(field, message);
  }
  const raw = parsed.data;
  const repository = field(
    'repository',
    () => parseRepositoryUrl(raw.repository, { allowLocal: options.allowLocalRepos }).display,
  );
  const commit = field('commit', () => parseCommitSha(raw.commit));
  const ref = raw.ref === undefined ? undefined : field('ref', () => parseGitRef(raw.ref as string));
  const recipePath = field('recipePath', () => parseRecipePath(raw.recipePath ?? 'securebuild.yaml'));
  if (raw.imageName !== undefined && !isPushableImageName(raw.imageName)) {
    throw invalidField('imageName', IMAGE_NAME_RULE);
  }
  return { repository, commit, ref, recipePath, imageName: raw.imageName };
}

/** SHA-256 over the normalized request: detects an Idempotency-Key reused with another body. */
export function buildRequestHash(request: BuildRequest): string {
  const { repository, commit, ref, recipePath, imageName } = request;
  return sha256Hex(canonicalJson({ repository, commit, ref, recipePath, imageName }));
}

function field<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (isDomainError(error, 'LOCAL_REPO_NOT_ALLOWED')) {
      throw invalidField(name, 'local repositories are refused by this server (SECURE_BUILD_ALLOW_LOCAL_REPOS is off)');
    }
    if (isDomainError(error)) throw invalidField(name, error.message);
    throw error;
  }
}
