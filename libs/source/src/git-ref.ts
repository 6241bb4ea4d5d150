import { hasControlCharacter } from '@secure-build/common';

import { SourceError } from './source.error';

const MAX_REF_LENGTH = 1024;
const FORBIDDEN = /[\s~^:?*[\\]/;

/**
 * Validates a fully qualified branch or tag ref (`refs/heads/…`, `refs/tags/…`) by git's
 * check-ref-format rules, and refuses anything git could read as an option. Refs are recorded in
 * provenance and later fetched, so they must be exact and safe to place in argv.
 */
export function parseGitRef(input: string): string {
  const refuse = (why: string): never => {
    throw new SourceError('INVALID_REF', `ref ${JSON.stringify(input.slice(0, 100))} ${why}`);
  };
  if (typeof input !== 'string' || input.length === 0) refuse('is empty');
  if (input.length > MAX_REF_LENGTH) refuse(`is longer than ${MAX_REF_LENGTH} characters`);
  if (input.startsWith('-')) refuse('starts with "-" and could be read as an option');
  if (hasControlCharacter(input)) refuse('contains control characters');
  if (!/^refs\/(heads|tags)\/./.test(input))
    refuse('must be a full branch or tag ref: refs/heads/<name> or refs/tags/<name>');
  if (FORBIDDEN.test(input)) refuse('contains a character git forbids in refs (space ~ ^ : ? * [ \\)');
  if (input.includes('..') || input.includes('@{') || input.includes('//')) refuse('contains "..", "@{" or "//"');
  if (input.endsWith('/') || input.endsWith('.') || input.endsWith('.lock')) refuse('ends with "/", "." or ".lock"');
  if (input.split('/').some((part) => part.startsWith('.') || part.startsWith('-'))) {
    refuse('has a path component starting with "." or "-"');
  }
  return input;
}
