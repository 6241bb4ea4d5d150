import { SourceError } from './source.error';
import { hasControlCharacter } from '@secure-build/common';

/** Hash algorithm of a repository, inferred from the length of a full commit id. */
export type ObjectFormat = 'sha1' | 'sha256';

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const HEX = /^[0-9a-f]+$/;

/**
 * Validates a pinned commit id and returns it in lower case. Only full ids are accepted: 40 hex
 * digits (SHA-1 repositories) or 64 (SHA-256 repositories). Abbreviated ids, refs, branch and tag
 * names, revision expressions and anything that git could read as an option are refused, because a
 * pin must name exactly one immutable object and must be safe to place in argv.
 */
export function parseCommitSha(input: string): string {
  if (typeof input !== 'string' || input.length === 0) {
    throw new SourceError('INVALID_COMMIT', 'commit id is empty: give the full 40-hex (or 64-hex) commit SHA');
  }
  if (/\s/.test(input) || hasControlCharacter(input)) {
    throw new SourceError('INVALID_COMMIT', 'commit id contains whitespace or control characters');
  }
  if (input.startsWith('-')) {
    throw new SourceError('INVALID_COMMIT', 'commit id starts with "-" and could be read as an option');
  }
  const lower = input.toLowerCase();
  if (FULL_SHA.test(lower)) return lower;
  if (HEX.test(lower)) {
    if (lower.length < 40) {
      throw new SourceError('INVALID_COMMIT', 'abbreviated commit id: give the full 40-hex SHA');
    }
    throw new SourceError(
      'INVALID_COMMIT',
      `commit id has ${lower.length} hex digits: expected 40 (SHA-1) or 64 (SHA-256)`,
    );
  }
  throw new SourceError(
    'INVALID_COMMIT',
    'a ref is not a commit pin: give the full 40-hex commit SHA instead of a branch, tag or revision expression',
  );
}

/** Object format implied by a full, validated commit id. */
export function objectFormatOf(commit: string): ObjectFormat {
  return commit.length === 64 ? 'sha256' : 'sha1';
}
