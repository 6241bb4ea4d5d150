import { hasControlCharacter, isSha256Digest } from '@secure-build/common';

import { deployError, quote } from './deploy.error';

/** Provenance facts the deployer verified (`secure-build verify-image`), recorded on the workload. */
export interface SnippetProvenance {
  /** Build id (UUID) or invocation id of the build that produced the image. */
  buildId?: string;
  /** Repository the image was built from, without credentials. */
  sourceRepository?: string;
  /** Full commit SHA that was built (40 or 64 hex). */
  commit?: string;
  /** `sha256:<hex>` of the Sigstore bundle that was verified. */
  bundleDigest?: string;
}

/**
 * Annotation keys. Admission policies and auditors match on them: persistent identifiers, do not
 * change without a migration.
 */
export const PROVENANCE_ANNOTATIONS = {
  buildId: 'securebuild.dev/build-id',
  bundleDigest: 'securebuild.dev/bundle-digest',
  imageDigest: 'securebuild.dev/image-digest',
  sourceRepository: 'securebuild.dev/source-repository',
  commit: 'securebuild.dev/source-commit',
} as const;

const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const MAX_REPOSITORY_LENGTH = 2048;

/** The image digest and the given provenance as annotations, keys sorted; throws PROVENANCE_INVALID. */
export function provenanceAnnotations(imageDigest: string, provenance: unknown): Record<string, string> {
  const annotations: Record<string, string> = { [PROVENANCE_ANNOTATIONS.imageDigest]: imageDigest };
  if (provenance === undefined) return annotations;
  if (typeof provenance !== 'object' || provenance === null || Array.isArray(provenance)) {
    throw deployError('PROVENANCE_INVALID', 'provenance', 'provenance must be an object');
  }
  const given = provenance as Record<string, unknown>;
  const fields = ['buildId', 'sourceRepository', 'commit', 'bundleDigest'] as const;
  for (const field of fields) {
    const value = given[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      throw deployError('PROVENANCE_INVALID', `provenance.${field}`, `provenance.${field} must be a string`);
    }
    checkField(field, value);
    annotations[PROVENANCE_ANNOTATIONS[field]] = value;
  }
  return Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function checkField(field: keyof SnippetProvenance, value: string): void {
  const fail = (expected: string) =>
    deployError('PROVENANCE_INVALID', `provenance.${field}`, `provenance.${field} ${quote(value)} ${expected}`);
  switch (field) {
    case 'buildId':
      if (!BUILD_ID.test(value)) throw fail("is not a build id: letters, digits, '.', '_', ':' or '-', at most 128");
      return;
    case 'commit':
      if (!COMMIT.test(value)) throw fail('is not a full commit SHA (40 or 64 lowercase hex)');
      return;
    case 'bundleDigest':
      if (!isSha256Digest(value)) throw fail('is not a sha256:<64 lowercase hex> digest');
      return;
    case 'sourceRepository':
      if (value === '' || value.length > MAX_REPOSITORY_LENGTH) {
        throw fail(`must be 1 to ${MAX_REPOSITORY_LENGTH} characters`);
      }
      if (hasControlCharacter(value) || /\s/u.test(value)) throw fail('contains whitespace or control characters');
      if (hasCredentials(value))
        throw fail('contains credentials; annotations are readable by anyone who can list Pods');
      return;
  }
}

// https://user:token@host leaks a secret; ssh://git@host and git@host:org/repo name only the user.
function hasCredentials(repository: string): boolean {
  if (/^[^/@:]+:[^/@]+@/.test(repository)) return true; // user:token@host/… without a scheme
  let url: URL;
  try {
    url = new URL(repository);
  } catch {
    return false;
  }
  return url.password !== '' || (url.username !== '' && (url.protocol === 'https:' || url.protocol === 'http:'));
}
