import { describe, expect, it } from 'vitest';

import {
  assertRegistryHost,
  assertRepository,
  formatImageReference,
  parseImageReference,
  type ImageReference,
} from './reference';
import { RegistryError } from './registry-error';

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;

function rejection(text: string, options?: Parameters<typeof parseImageReference>[1]): RegistryError {
  try {
    parseImageReference(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('REFERENCE_INVALID');
    return error as RegistryError;
  }
  throw new Error(`accepted ${JSON.stringify(text)}`);
}

describe('parseImageReference', () => {
  it.each<[string, ImageReference]>([
    ['registry.example.com/app', { registry: 'registry.example.com', repository: 'app' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/org/app:1.0', { registry: 'localhost:5000', repository: 'org/app', tag: '1.0' }],
    ['127.0.0.1:5055/a/b/c@' + DIGEST, { registry: '127.0.0.1:5055', repository: 'a/b/c', digest: DIGEST }],
    ['ghcr.io/org/app:v1.2.3@' + DIGEST, { registry: 'ghcr.io', repository: 'org/app', tag: 'v1.2.3', digest: DIGEST }],
    ['Registry.Example.COM/app', { registry: 'Registry.Example.COM', repository: 'app' }],
    ['reg.io/my-app/x.y/a_b/c__d/e--f', { registry: 'reg.io', repository: 'my-app/x.y/a_b/c__d/e--f' }],
    ['reg.io/app:_tag', { registry: 'reg.io', repository: 'app', tag: '_tag' }],
    ['reg.io/app:' + 'T'.repeat(128), { registry: 'reg.io', repository: 'app', tag: 'T'.repeat(128) }],
    ['reg:65535/app', { registry: 'reg:65535', repository: 'app' }],
  ])('accepts %s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
    expect(formatImageReference(expected)).toBe(text);
  });

  it.each<[string, string, Parameters<typeof parseImageReference>[1]?]>([
    ['', 'required'],
    ['app', 'registry host and a repository'],
    ['library/app', "no explicit registry host (\"library\" has no '.' or ':'"],
    ['docker/app:latest', 'no explicit registry host'],
    ['https://reg.io/app', 'URL scheme'],
    ['reg.io/app\n', 'whitespace or control'],
    ['reg.io/a pp', 'whitespace or control'],
    ['reg.io/app\u0000', 'whitespace or control'],
    ['-reg.io/app', "start with '-'"],
    ['reg.io//app', 'empty repository component'],
    ['reg.io/app/', 'empty repository component'],
    ['reg.io/', 'empty repository'],
    ['/app', 'empty registry host'],
    ['reg.io/App', 'uppercase letters'],
    ['reg.io/org/MyApp:1', 'uppercase letters'],
    ['reg.io/-app', 'invalid repository component'],
    ['reg.io/app-', 'invalid repository component'],
    ['reg.io/a..b', 'invalid repository component'],
    ['reg.io/a___b', 'invalid repository component'],
    ['reg.io/a%2fb', 'invalid repository component'],
    ['reg.io/app:', 'invalid tag'],
    ['reg.io/app:.hidden', 'invalid tag'],
    ['reg.io/app:-x', 'invalid tag'],
    ['reg.io/app:' + 't'.repeat(129), 'invalid tag'],
    ['reg.io/app:a+b', 'invalid tag'],
    ['reg.io/app@sha512:' + 'a'.repeat(128), 'not sha256'],
    ['reg.io/app@sha256:' + 'A'.repeat(64), 'malformed digest'],
    ['reg.io/app@sha256:' + 'a'.repeat(63), 'malformed digest'],
    ['reg.io/app@' + DIGEST + '@' + DIGEST, "more than one '@'"],
    ['reg.io:0/app', 'port 0 out of range'],
    ['reg.io:65536/app', 'port 65536 out of range'],
    ['reg.io:99999/app', 'out of range'],
    ['reg.io:/app', 'invalid registry port'],
    ['reg.io:50x/app', 'invalid registry port'],
    ['reg_io.com/app', 'invalid registry host'],
    ['-reg.io:5000/app', "start with '-'"],
    ['reg.-io/app', 'invalid registry host'],
    ['[::1]:5000/app', 'IPv6'],
    ['reg.io/' + 'a'.repeat(250), 'longer than 255'],
    ['reg.io/app:1.0', 'must not carry a tag', { allowTag: false }],
    ['reg.io/app:1.0@' + DIGEST, 'must not carry a tag', { allowTag: false, requireDigest: true }],
    ['reg.io/app:1.0', 'not pinned by digest', { requireDigest: true }],
    ['reg.io/app', 'not pinned by digest', { requireDigest: true }],
  ])('rejects %j (%s)', (text, problem, options) => {
    expect(rejection(text, options).message).toContain(problem);
  });

  it.each([
    'user:hunter2secret@reg.io/app',
    'https://user:hunter2secret@reg.io/app',
    'user:hunter2secret@reg.io:5000',
    'user:hunter2secret@reg.io/app@' + DIGEST,
    'user:hun/ter2secret@reg.io/app',
    'user:hun/ter2secret@reg.io:5000',
    'hunter2secret@reg.io/app:tag',
  ])('rejects credentials without echoing them: %s', (text) => {
    const error = rejection(text);
    expect(error.message).not.toContain('hunter2secret');
    expect(error.message).not.toContain('hun/ter2secret');
    expect(error.message).not.toContain('ter2secret');
  });

  it('requires a digest and still accepts one when tags are refused', () => {
    expect(parseImageReference(`reg.io/app@${DIGEST}`, { requireDigest: true, allowTag: false })).toEqual({
      registry: 'reg.io',
      repository: 'app',
      digest: DIGEST,
    });
  });
});

describe('formatImageReference', () => {
  it('refuses parts that do not form a valid reference', () => {
    expect(() => formatImageReference({ registry: 'reg.io', repository: 'App' })).toThrow(RegistryError);
    expect(() => formatImageReference({ registry: 'docker', repository: 'app' })).toThrow(/explicit registry host/);
    expect(() => formatImageReference({ registry: 'reg.io', repository: 'app', tag: 'x y' })).toThrow(RegistryError);
    expect(() => formatImageReference({ registry: 'reg.io', repository: 'app:x', tag: 'y' })).toThrow(RegistryError);
    expect(() => formatImageReference({ registry: 'reg.io', repository: 'app', digest: 'sha256:x' })).toThrow(
      /malformed digest/,
    );
  });
});

describe('assertRegistryHost / assertRepository', () => {
  it('checks hosts and repositories on their own', () => {
    expect(assertRegistryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(() => assertRegistryHost('user:pw-secret@reg.io')).toThrow(/credentials/);
    expect(() => assertRegistryHost('user:pw-secret@reg.io')).not.toThrow(/pw-secret/);
    expect(() => assertRegistryHost('reg.io:70000')).toThrow(/out of range/);
    expect(assertRepository('org/app')).toBe('org/app');
    expect(() => assertRepository('org/App')).toThrow(/uppercase/);
    expect(() => assertRepository('../etc')).toThrow(RegistryError);
  });
});
