import { describe, expect, it } from 'vitest';

import { parseWwwAuthenticate } from './www-authenticate';

describe('parseWwwAuthenticate', () => {
  it('parses a Docker-style Bearer challenge', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:org/app:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:org/app:pull,push',
        },
      },
    ]);
  });

  it('parses Basic with a quoted realm and lowercases scheme and parameter names', () => {
    expect(parseWwwAuthenticate('BASIC Realm="test-realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'test-realm' } },
    ]);
  });

  it('handles several challenges, whitespace around = and unquoted tokens', () => {
    expect(
      parseWwwAuthenticate('Bearer realm = "https://a/t" , service=reg.io,  Basic realm="b, c", Negotiate'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://a/t', service: 'reg.io' } },
      { scheme: 'basic', params: { realm: 'b, c' } },
      { scheme: 'negotiate', params: {} },
    ]);
  });

  it('unescapes quoted-pair characters', () => {
    expect(parseWwwAuthenticate('Basic realm="say \\"hi\\" \\\\ bye"')).toEqual([
      { scheme: 'basic', params: { realm: 'say "hi" \\ bye' } },
    ]);
  });

  it('recognizes token68 challenges', () => {
    expect(parseWwwAuthenticate('Negotiate abc123==, Basic realm="r"')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc123==' },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });

  it('returns what it parsed before malformed input and nothing for garbage', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://a/t",service="unterminated')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://a/t' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('   ,  ')).toEqual([]);
    expect(parseWwwAuthenticate('"quoted"')).toEqual([]);
  });

  it('keeps commas and equals signs inside quoted scopes', () => {
    const [challenge] = parseWwwAuthenticate(
      'Bearer realm="https://auth/token?x=1",scope="repository:a:pull,push repository:b:pull"',
    );
    expect(challenge.params).toEqual({
      realm: 'https://auth/token?x=1',
      scope: 'repository:a:pull,push repository:b:pull',
    });
  });
});
