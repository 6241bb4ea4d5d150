import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { loadRecipe, parseRecipe, parseRecipePath, RecipeError } from './recipe';

const VALID = `
apiVersion: securebuild/v1
build:
  run: "sh ./build.sh"
  outputs:
    - { from: dist, to: /app }
image:
  base: scratch
  entrypoint: ["/app/bin/server"]
  cmd: []
  env: { NODE_ENV: production }
  workdir: /app
  labels: {}
`;

function expectInvalid(text: string, fragment: string | RegExp): void {
  try {
    parseRecipe(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    expect((error as Error).message).toMatch(fragment);
    return;
  }
  throw new Error('expected the recipe to be rejected');
}

describe('parseRecipe', () => {
  it('accepts the documented example and applies defaults', () => {
    const recipe = parseRecipe(VALID);
    expect(recipe.build.run).toBe('sh ./build.sh');
    expect(recipe.build.outputs).toEqual([{ from: 'dist', to: '/app' }]);
    expect(recipe.build.env).toEqual({});
    expect(recipe.build.timeoutSeconds).toBe(1800);
    expect(recipe.image).toMatchObject({ base: 'scratch', entrypoint: ['/app/bin/server'], workdir: '/app' });
  });

  it('accepts an argv run and a digest-pinned base', () => {
    const recipe = parseRecipe(
      VALID.replace('run: "sh ./build.sh"', 'run: ["make", "all"]').replace(
        'base: scratch',
        `base: registry.example.com:5000/org/base@sha256:${'a'.repeat(64)}`,
      ),
    );
    expect(recipe.build.run).toEqual(['make', 'all']);
  });

  it.each([
    ['wrong apiVersion', VALID.replace('securebuild/v1', 'securebuild/v2'), /apiVersion: must be 'securebuild\/v1'/],
    ['missing build', 'apiVersion: securebuild/v1\nimage: {}\n', /build: is required/],
    ['empty run', VALID.replace('"sh ./build.sh"', '""'), /build\.run/],
    [
      'no outputs',
      VALID.replace('    - { from: dist, to: /app }', '    []').replace('outputs:\n    []', 'outputs: []'),
      /build\.outputs: declare at least one output/,
    ],
    ['absolute output source', VALID.replace('from: dist', 'from: /etc'), /build\.outputs\.0\.from: must be relative/],
    [
      'escaping output source',
      VALID.replace('from: dist', 'from: ../x'),
      /build\.outputs\.0\.from: must not contain '\.\.'/,
    ],
    ['relative image path', VALID.replace('to: /app', 'to: app'), /build\.outputs\.0\.to: must be an absolute path/],
    [
      'base by tag',
      VALID.replace('base: scratch', 'base: docker.io/library/alpine:3.20'),
      /image\.base: must be 'scratch' or registry\/repo@sha256/,
    ],
    [
      'unknown field',
      VALID.replace('  workdir: /app', '  workdir: /app\n  privileged: true'),
      /image\.privileged: unknown field\(s\)/,
    ],
    [
      'bad env name',
      VALID.replace('NODE_ENV: production', '"BAD-NAME": x'),
      /image\.env\.BAD-NAME: variable names must match/,
    ],
    [
      'reserved build env',
      VALID.replace('  run: "sh ./build.sh"', '  run: "sh ./build.sh"\n  env: { PATH: /evil }'),
      /build\.env: must not set SOURCE_DATE_EPOCH/,
    ],
    [
      'entrypoint not argv',
      VALID.replace('entrypoint: ["/app/bin/server"]', 'entrypoint: "/app/bin/server"'),
      /image\.entrypoint/,
    ],
  ])('rejects %s with a message naming the field', (_name, text, fragment) => {
    expectInvalid(text, fragment);
  });

  it('rejects malformed YAML and duplicate keys', () => {
    expectInvalid('apiVersion: [unclosed', /not valid YAML/);
    expectInvalid(`${VALID}\napiVersion: securebuild/v1\n`, /not valid YAML/);
  });

  it('refuses YAML aliases (billion laughs)', () => {
    expectInvalid(
      `${VALID.replace('labels: {}', 'labels: &a { x: y }')}\n`.replace('cmd: []', 'cmd: []\n  user: *a'),
      /./,
    );
  });
});

describe('parseRecipePath', () => {
  it.each(['/etc/passwd', '../outside.yaml', 'a/../../b', '-c', 'a\nb', ''])('refuses %j', (path) => {
    expect(() => parseRecipePath(path)).toThrow(RecipeError);
  });

  it('normalizes a nested relative path', () => {
    expect(parseRecipePath('./ci/securebuild.yaml')).toBe('ci/securebuild.yaml');
  });
});

describe('loadRecipe', () => {
  it('reads the recipe from the tree and reports a missing one clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recipe-'));
    await expect(loadRecipe(dir)).rejects.toThrow(/recipe 'securebuild.yaml' not found/);
    await writeFile(join(dir, 'securebuild.yaml'), VALID);
    await expect(loadRecipe(dir)).resolves.toMatchObject({ apiVersion: 'securebuild/v1' });
  });
});
