import { describe, expect, it } from 'vitest';

import { objectFormatOf, parseCommitSha } from './commit-sha';
import { SourceError } from './source.error';

const SHA1 = '0123456789abcdef0123456789abcdef01234567';
const SHA256 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

function rejection(input: string): SourceError {
  try {
    parseCommitSha(input);
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('INVALID_COMMIT');
    return err as SourceError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('parseCommitSha', () => {
  it('accepts full SHA-1 and SHA-256 ids', () => {
    expect(parseCommitSha(SHA1)).toBe(SHA1);
    expect(parseCommitSha(SHA256)).toBe(SHA256);
    expect(objectFormatOf(SHA1)).toBe('sha1');
    expect(objectFormatOf(SHA256)).toBe('sha256');
  });

  it('normalizes upper-case hex to lower case', () => {
    expect(parseCommitSha(SHA1.toUpperCase())).toBe(SHA1);
  });

  it('refuses an empty id', () => {
    expect(rejection('').message).toMatch(/empty/);
  });

  it.each(['abc1234', SHA1.slice(0, 39), 'a'])('refuses the abbreviated id %s', (input) => {
    expect(rejection(input).message).toMatch(/abbreviated commit id: give the full 40-hex SHA/);
  });

  it.each([`${SHA1}0`, SHA256.slice(0, 63), `${SHA256}0`])('refuses a hex id of the wrong length', (input) => {
    expect(rejection(input).message).toMatch(/expected 40 \(SHA-1\) or 64 \(SHA-256\)/);
  });

  it.each([
    'main',
    'refs/heads/main',
    'v1.0.0',
    'HEAD',
    'HEAD~1',
    `${SHA1}^{commit}`,
    `origin/${SHA1}`,
    'g'.repeat(40),
  ])('refuses the ref or expression %s', (input) => {
    expect(rejection(input).message).toMatch(/a ref is not a commit pin/);
  });

  it.each([` ${SHA1}`, `${SHA1}\n`, `${SHA1.slice(0, 20)} ${SHA1.slice(20)}`, `${SHA1}\0`, '\t'])(
    'refuses whitespace and control characters (%j)',
    (input) => {
      expect(rejection(input).message).toMatch(/whitespace or control/);
    },
  );

  it.each(['--upload-pack=evil', '-c', `-${SHA1}`])('refuses option-like text %s', (input) => {
    expect(rejection(input).message).toMatch(/could be read as an option/);
  });
});
