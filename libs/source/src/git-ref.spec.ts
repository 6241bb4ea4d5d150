import { execFileSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { parseGitRef } from './git-ref';
import { SourceError } from './source.error';

describe('parseGitRef', () => {
  it.each(['refs/heads/main', 'refs/tags/v1.2.3', 'refs/heads/release/2025-01', 'refs/heads/feature_x+y'])(
    'accepts %s',
    (ref) => {
      expect(parseGitRef(ref)).toBe(ref);
      // git itself agrees
      expect(() => execFileSync('git', ['check-ref-format', ref])).not.toThrow();
    },
  );

  it.each([
    ['', /empty/],
    ['main', /full branch or tag ref/],
    ['refs/remotes/origin/main', /full branch or tag ref/],
    ['--upload-pack=touch /tmp/pwned', /option/],
    ['refs/heads/--upload-pack=x', /starting with "." or "-"/],
    ['refs/heads/a b', /forbids/],
    ['refs/heads/a..b', /"\.\."/],
    ['refs/heads/a@{1}', /"@\{"/],
    ['refs/heads/a~1', /forbids/],
    ['refs/heads/a:b', /forbids/],
    ['refs/heads/x\n', /control/],
    ['refs/heads/.hidden', /starting with "\."/],
    ['refs/heads/x.lock', /\.lock/],
    ['refs/heads/x/', /ends with/],
    ['refs/heads//x', /"\/\/"/],
    [`refs/heads/${'a'.repeat(1100)}`, /longer/],
  ])('refuses %j', (ref, message) => {
    expect(() => parseGitRef(ref)).toThrow(SourceError);
    expect(() => parseGitRef(ref)).toThrow(message);
  });
});
