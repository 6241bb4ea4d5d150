import { describe, expect, it } from 'vitest';

import { DeployError } from './deploy.error';
import { PROVENANCE_ANNOTATIONS, provenanceAnnotations } from './provenance-annotations';

const IMAGE_DIGEST = `sha256:${'c'.repeat(64)}`;
const FULL = {
  sourceRepository: 'https://git.example.com/org/wallet.git',
  commit: '4f2c1b0e9d8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
  bundleDigest: `sha256:${'d'.repeat(64)}`,
  buildId: '0b6f0c1e-5d5a-4a57-9a53-2a4f7b0d3c11',
};

function refusal(provenance: unknown): DeployError {
  try {
    provenanceAnnotations(IMAGE_DIGEST, provenance);
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError);
    return error as DeployError;
  }
  throw new Error(`accepted ${JSON.stringify(provenance)}`);
}

describe('provenanceAnnotations', () => {
  it('records the image digest alone without provenance', () => {
    expect(provenanceAnnotations(IMAGE_DIGEST, undefined)).toEqual({ 'securebuild.dev/image-digest': IMAGE_DIGEST });
    expect(provenanceAnnotations(IMAGE_DIGEST, {})).toEqual({ 'securebuild.dev/image-digest': IMAGE_DIGEST });
  });

  it('records every given field under securebuild.dev/, keys sorted whatever the input order', () => {
    const annotations = provenanceAnnotations(IMAGE_DIGEST, FULL);
    expect(annotations).toEqual({
      [PROVENANCE_ANNOTATIONS.buildId]: FULL.buildId,
      [PROVENANCE_ANNOTATIONS.bundleDigest]: FULL.bundleDigest,
      [PROVENANCE_ANNOTATIONS.imageDigest]: IMAGE_DIGEST,
      [PROVENANCE_ANNOTATIONS.sourceRepository]: FULL.sourceRepository,
      [PROVENANCE_ANNOTATIONS.commit]: FULL.commit,
    });
    const keys = Object.keys(annotations);
    expect(keys).toEqual([...keys].sort());
    expect(keys.every((key) => key.startsWith('securebuild.dev/'))).toBe(true);
  });

  it.each([
    'ssh://git@git.example.com/org/wallet.git',
    'git@git.example.com:org/wallet.git',
    'https://git.example.com/org/wallet.git#main',
  ])('accepts repository %s (a user name alone is not a secret over ssh)', (sourceRepository) => {
    expect(provenanceAnnotations(IMAGE_DIGEST, { sourceRepository })[PROVENANCE_ANNOTATIONS.sourceRepository]).toBe(
      sourceRepository,
    );
  });

  it('accepts SHA-256 commits and urn:uuid invocation ids', () => {
    const given = { commit: 'e'.repeat(64), buildId: 'urn:uuid:0b6f0c1e-5d5a-4a57-9a53-2a4f7b0d3c11' };
    expect(provenanceAnnotations(IMAGE_DIGEST, given)).toMatchObject({
      [PROVENANCE_ANNOTATIONS.commit]: given.commit,
      [PROVENANCE_ANNOTATIONS.buildId]: given.buildId,
    });
  });

  it.each([
    ['a string', 'x', 'provenance', /must be an object/],
    ['an array', [], 'provenance', /must be an object/],
    ['null', null, 'provenance', /must be an object/],
    ['a numeric build id', { buildId: 7 }, 'provenance.buildId', /must be a string/],
    ['an empty build id', { buildId: '' }, 'provenance.buildId', /is not a build id/],
    ['a build id with a space', { buildId: 'a b' }, 'provenance.buildId', /is not a build id/],
    ['a build id with a leading dash', { buildId: '-x' }, 'provenance.buildId', /is not a build id/],
    ['an overlong build id', { buildId: 'a'.repeat(129) }, 'provenance.buildId', /is not a build id/],
    ['a short commit', { commit: 'abc1234' }, 'provenance.commit', /not a full commit SHA/],
    ['an upper-case commit', { commit: 'A'.repeat(40) }, 'provenance.commit', /not a full commit SHA/],
    ['a ref as commit', { commit: 'refs/heads/main' }, 'provenance.commit', /not a full commit SHA/],
    ['a bare hex bundle digest', { bundleDigest: 'd'.repeat(64) }, 'provenance.bundleDigest', /not a sha256:/],
    ['an empty repository', { sourceRepository: '' }, 'provenance.sourceRepository', /1 to 2048 characters/],
    [
      'an overlong repository',
      { sourceRepository: `https://git.example.com/${'a'.repeat(2048)}` },
      'provenance.sourceRepository',
      /1 to 2048 characters/,
    ],
    [
      'a repository with a newline',
      { sourceRepository: 'https://git.example.com/a\nkind: Secret' },
      'provenance.sourceRepository',
      /whitespace or control characters/,
    ],
    [
      'a repository with a space',
      { sourceRepository: 'https://git.example.com/a b' },
      'provenance.sourceRepository',
      /whitespace or control characters/,
    ],
    [
      'a repository with a token',
      { sourceRepository: 'https://x-access-token:ghp_secret@git.example.com/org/wallet.git' },
      'provenance.sourceRepository',
      /contains credentials/,
    ],
    [
      'a repository with an https user',
      { sourceRepository: 'https://token@git.example.com/org/wallet.git' },
      'provenance.sourceRepository',
      /contains credentials/,
    ],
    [
      'a repository with a password over ssh',
      { sourceRepository: 'ssh://git:secret@git.example.com/org/wallet.git' },
      'provenance.sourceRepository',
      /contains credentials/,
    ],
    [
      'a scheme-less user:token@host',
      { sourceRepository: 'user:secret@git.example.com/org/wallet.git' },
      'provenance.sourceRepository',
      /contains credentials/,
    ],
  ])('refuses %s', (_case, provenance, field, message) => {
    const error = refusal(provenance);
    expect(error.code).toBe('PROVENANCE_INVALID');
    expect(error.details).toEqual({ field });
    expect(error.message).toMatch(message);
  });
});
