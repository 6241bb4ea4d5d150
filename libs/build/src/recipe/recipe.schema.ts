import { z } from 'zod';

import { hasControlCharacter } from '@secure-build/common';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Names the sandbox sets itself; a recipe must not override them.
const RESERVED_BUILD_ENV = new Set(['SOURCE_DATE_EPOCH', 'TZ', 'LC_ALL', 'HOME', 'PATH', 'TMPDIR']);
const BASE_IMAGE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+@sha256:[0-9a-f]{64}$/;

const relativeTreePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/'), 'must be relative to the build tree')
  .refine((p) => !p.split('/').includes('..'), "must not contain '..'")
  .refine((p) => !hasControlCharacter(p), 'must not contain control characters');

const imagePath = z
  .string()
  .refine((p) => p.startsWith('/'), 'must be an absolute path in the image')
  .refine((p) => !p.split('/').includes('..'), "must not contain '..'")
  .refine((p) => !hasControlCharacter(p), 'must not contain control characters');

const envMap = z.record(
  z.string().regex(ENV_NAME, 'variable names must match [A-Za-z_][A-Za-z0-9_]*'),
  z.string().refine((v) => !v.includes('\0'), 'must not contain NUL'),
);

const argv = z.array(z.string().refine((a) => !a.includes('\0'), 'must not contain NUL'));

export const recipeSchema = z
  .object({
    apiVersion: z.literal('securebuild/v1', { error: "must be 'securebuild/v1'" }),
    build: z
      .object({
        run: z.union([z.string().min(1, 'must not be empty'), argv.min(1, 'must not be empty')]),
        env: envMap
          .refine((env) => Object.keys(env).every((k) => !RESERVED_BUILD_ENV.has(k)), {
            message: `must not set ${[...RESERVED_BUILD_ENV].join(', ')} (the sandbox sets them)`,
          })
          .default({}),
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(6 * 3600)
          .default(1800),
        outputs: z
          .array(z.object({ from: relativeTreePath, to: imagePath }).strict())
          .min(1, 'declare at least one output'),
      })
      .strict(),
    image: z
      .object({
        base: z
          .string()
          .refine((b) => b === 'scratch' || BASE_IMAGE.test(b), {
            message: "must be 'scratch' or registry/repo@sha256:<64 hex> (tags are not pins)",
          })
          .default('scratch'),
        entrypoint: argv.optional(),
        cmd: argv.optional(),
        env: envMap.default({}),
        workdir: imagePath.optional(),
        user: z.string().min(1).optional(),
        labels: z.record(z.string(), z.string()).default({}),
      })
      .strict(),
  })
  .strict();

/** A validated `securebuild.yaml` recipe (defaults applied). */
export type Recipe = z.infer<typeof recipeSchema>;
