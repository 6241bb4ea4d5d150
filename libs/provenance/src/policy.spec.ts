import { describe, expect, it } from 'vitest';

import { matchesPattern, parsePolicy, PolicyFileError } from './policy';

describe('parsePolicy', () => {
  it('applies secure defaults', () => {
    expect(parsePolicy('repositories: ["https://example.com/org/wallet.git"]')).toEqual({
      allowSimulated: false,
      repositories: ['https://example.com/org/wallet.git'],
      requireReproducible: true,
      allowInsecureSandbox: false,
      requireBuildEvidence: false,
    });
  });

  it('accepts JSON as well as YAML', () => {
    expect(parsePolicy('{"repositories": ["a"], "refs": ["refs/heads/main"], "allowSimulated": true}')).toMatchObject({
      refs: ['refs/heads/main'],
      allowSimulated: true,
    });
  });

  it.each([
    ['', /repositories: is required/],
    ['repositories: []', /repositories: list at least one repository/],
    ['repositories: ["a"]\nallowSimulated: "yes"', /allowSimulated/],
    ['repositories: ["a"]\nallowSimulted: true', /allowSimulted: unknown field\(s\)/],
    ['repositories: ["https://*.example.com/x"]', /only allowed as the last character/],
    ['repositories: [unclosed', /not valid YAML/],
    ['repositories: &a ["x"]\nrefs: *a', /aliases/],
  ])('rejects %j naming the problem', (text, message) => {
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(PolicyFileError);
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(message);
  });
});

describe('matchesPattern', () => {
  it('matches exactly or by trailing-* prefix only', () => {
    expect(matchesPattern('https://e.com/org/a.git', ['https://e.com/org/a.git'])).toBe(true);
    expect(matchesPattern('https://e.com/org/a.git.evil', ['https://e.com/org/a.git'])).toBe(false);
    expect(matchesPattern('refs/tags/v1.2', ['refs/tags/v*'])).toBe(true);
    expect(matchesPattern('refs/heads/v1', ['refs/tags/v*'])).toBe(false);
    expect(matchesPattern('', ['*'])).toBe(true);
  });
});
