import { DomainError } from '@secure-build/common';
import { describe, expect, it } from 'vitest';

import { DeployError } from './deploy.error';
import { parseImageReference } from './image-reference';

const HEX = 'a1'.repeat(32);
const DIGEST = `sha256:${HEX}`;

function refusal(input: unknown): DeployError {
  try {
    parseImageReference(input);
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError);
    expect(error).toBeInstanceOf(DomainError);
    return error as DeployError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('parseImageReference', () => {
  it.each([
    [`registry.example.com/org/app@${DIGEST}`, 'registry.example.com', 'org/app'],
    [`localhost/app@${DIGEST}`, 'localhost', 'app'],
    [`localhost:5000/app@${DIGEST}`, 'localhost:5000', 'app'],
    [`registry:5000/app@${DIGEST}`, 'registry:5000', 'app'],
    [`10.0.0.1:65535/a/b/c@${DIGEST}`, '10.0.0.1:65535', 'a/b/c'],
    [`Registry.Example.com/app@${DIGEST}`, 'Registry.Example.com', 'app'],
    [`docker.io/library/redis@${DIGEST}`, 'docker.io', 'library/redis'],
    [`r-1.example.com/a__b/c---d/e.f_g@${DIGEST}`, 'r-1.example.com', 'a__b/c---d/e.f_g'],
    [`registry.example.com/${'a'.repeat(234)}@${DIGEST}`, 'registry.example.com', 'a'.repeat(234)],
  ])('accepts %s', (input, registry, repository) => {
    expect(parseImageReference(input)).toEqual({ registry, repository, digest: DIGEST, reference: input });
  });

  it.each([
    ['a missing value', undefined, /an image reference is required/],
    ['a number', 42, /an image reference is required/],
    ['an empty string', '', /an image reference is required/],
    ['an overlong reference', `registry.example.com/${'a'.repeat(300)}@${DIGEST}`, /longer than 327 characters/],
    ['a 256-character name', `registry.example.com/${'a'.repeat(235)}@${DIGEST}`, /longer than 327 characters/],
    ['an overlong name', `registry.example.com/${'a/'.repeat(117)}a@${DIGEST}`, /a name is at most 255/],
    ['a space', `registry.example.com/app @${DIGEST}`, /whitespace or control characters/],
    ['a tab', `registry.example.com/app\t@${DIGEST}`, /whitespace or control characters/],
    ['a newline', `registry.example.com/app@${DIGEST}\nkind: Secret`, /whitespace or control characters/],
    ['a NUL', `registry.example.com/app\u0000@${DIGEST}`, /whitespace or control characters/],
    ['a DEL', `registry.example.com/app\u007f@${DIGEST}`, /whitespace or control characters/],
    ['a no-break space', `registry.example.com/app\u00a0@${DIGEST}`, /whitespace or control characters/],
    ['a URL scheme', `https://registry.example.com/app@${DIGEST}`, /must not include a URL scheme/],
    ['a leading dash', `-registry.example.com/app@${DIGEST}`, /must not start with '-'/],
    ['a YAML comment', `registry.example.com/app#x@${DIGEST}`, /contains "#"/],
    ['a quote', `registry.example.com/"app"@${DIGEST}`, /contains "\\""/],
    ['a flow mapping', `registry.example.com/{app}@${DIGEST}`, /contains "{"/],
    ['an anchor', `registry.example.com/&app@${DIGEST}`, /contains "&"/],
    ['an IPv6 host', `[::1]:5000/app@${DIGEST}`, /IPv6 literal hosts are not supported/],
    ['a tag only', 'registry.example.com/app:1.0', /pinned by tag: tags are refused/],
    ['a bare name', 'registry.example.com/app', /not pinned by digest/],
    ['a tag with a digest', `registry.example.com/app:1.0@${DIGEST}`, /carries a tag: tags are refused/],
    ['credentials', `user@registry.example.com/app@${DIGEST}`, /must not contain credentials/],
    ['user and password', `user:secret@registry.example.com/app@${DIGEST}`, /must not contain credentials/],
    ['a second @', `registry.example.com/app@${DIGEST}@x`, /more than one '@'/],
    ['a sha512 digest', `registry.example.com/app@sha512:${'a'.repeat(128)}`, /only sha256:<64 lowercase hex>/],
    ['a digest without algorithm', `registry.example.com/app@${HEX}`, /only sha256:<64 lowercase hex>/],
    ['an upper-case digest', `registry.example.com/app@sha256:${HEX.toUpperCase()}`, /malformed digest/],
    ['a short digest', `registry.example.com/app@sha256:${'a'.repeat(63)}`, /malformed digest/],
    ['no registry and no path', `app@${DIGEST}`, /has no registry host/],
    ['a registry without a path', `registry.example.com:5000@${DIGEST}`, /no repository path after the registry host/],
    ['a Docker Hub short name', `library/app@${DIGEST}`, /"library", which is not a registry host/],
    ['an invalid host', `registry..example.com/app@${DIGEST}`, /not a valid host\[:port\]/],
    ['a host with a dash at the end', `registry-.example.com/app@${DIGEST}`, /not a valid host\[:port\]/],
    ['an empty port', `registry.example.com:/app@${DIGEST}`, /not a valid host\[:port\]/],
    ['port 0', `registry.example.com:0/app@${DIGEST}`, /port "0" outside 1-65535/],
    ['port 70000', `registry.example.com:70000/app@${DIGEST}`, /port "70000" outside 1-65535/],
    ['an empty path component', `registry.example.com//app@${DIGEST}`, /empty path component/],
    ['a trailing slash', `registry.example.com/app/@${DIGEST}`, /empty path component/],
    ['a colon inside the path', `registry.example.com/org:x/app@${DIGEST}`, /':' may only separate/],
    ['an upper-case path', `registry.example.com/Org/app@${DIGEST}`, /"Org": path components must be lowercase/],
    ['a trailing separator', `registry.example.com/app-@${DIGEST}`, /"app-": use lowercase letters/],
    ['a leading separator', `registry.example.com/_app@${DIGEST}`, /"_app": use lowercase letters/],
    ['a doubled dot', `registry.example.com/a..b@${DIGEST}`, /"a..b": use lowercase letters/],
    ['a triple underscore', `registry.example.com/a___b@${DIGEST}`, /"a___b": use lowercase letters/],
  ])('refuses %s', (_case, input, message) => {
    const error = refusal(input);
    expect(error.code).toBe('IMAGE_REFERENCE_INVALID');
    expect(error.details).toEqual({ field: 'image' });
    // The grammar's own messages are tested in libs/registry; here: refused, and named as the image.
    expect(error.message).toMatch(message.source.startsWith('an image') ? message : /image reference|required/);
  });

  it('quotes the offending reference JSON-escaped, so control characters never reach a terminal raw', () => {
    const error = refusal(`registry.example.com/app\u001b[31m@${DIGEST}`);
    expect(error.message).toContain('\\u001b[31m');
    expect(error.message).not.toContain('\u001b');
  });
});
