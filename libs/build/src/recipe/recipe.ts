import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { parseDocument } from 'yaml';

import { describeSchemaIssue, DomainError, hasControlCharacter } from '@secure-build/common';

import { Recipe, recipeSchema } from './recipe.schema';

/** Default recipe location at the repository root. */
export const DEFAULT_RECIPE_PATH = 'securebuild.yaml';

export type RecipeErrorCode = 'RECIPE_NOT_FOUND' | 'RECIPE_SYNTAX' | 'RECIPE_INVALID' | 'RECIPE_PATH_INVALID';

/** Raised when a recipe is missing, not YAML, or violates the schema; `details.issues` lists every problem. */
export class RecipeError extends DomainError<RecipeErrorCode> {}

/** Validates a recipe path given by a user: relative, inside the tree, no option-like or control text. */
export function parseRecipePath(input: string): string {
  if (!input || hasControlCharacter(input) || isAbsolute(input) || input.startsWith('-')) {
    throw new RecipeError(
      'RECIPE_PATH_INVALID',
      `recipe path '${printable(input)}' must be a relative path in the repository`,
    );
  }
  const normalized = normalize(input);
  if (normalized.startsWith('..')) {
    throw new RecipeError('RECIPE_PATH_INVALID', `recipe path '${printable(input)}' leaves the repository`);
  }
  return normalized;
}

/** Parses and validates recipe YAML text; `source` names the file in error messages. */
export function parseRecipe(text: string, source = DEFAULT_RECIPE_PATH): Recipe {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => e.message.split('\n')[0]);
    throw new RecipeError('RECIPE_SYNTAX', `${source}: not valid YAML: ${issues.join('; ')}`, { details: { issues } });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    throw new RecipeError('RECIPE_SYNTAX', `${source}: YAML aliases and anchors are not allowed`, { cause: error });
  }
  const result = recipeSchema.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const { field, message } = describeSchemaIssue(issue, data);
      return `${field}: ${message}${message === 'unknown field' ? '(s)' : ''}`;
    });
    throw new RecipeError('RECIPE_INVALID', `${source}: ${issues.join('; ')}`, { details: { issues } });
  }
  return result.data;
}

/** Reads `recipePath` (relative to `treeDir`) and validates it. */
export async function loadRecipe(treeDir: string, recipePath = DEFAULT_RECIPE_PATH): Promise<Recipe> {
  const path = parseRecipePath(recipePath);
  const full = join(treeDir, path);
  if (relative(treeDir, full).startsWith('..')) {
    throw new RecipeError('RECIPE_PATH_INVALID', `recipe path '${recipePath}' leaves the repository`);
  }
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (error) {
    throw new RecipeError('RECIPE_NOT_FOUND', `recipe '${path}' not found in the repository at this commit`, {
      cause: error,
    });
  }
  return parseRecipe(text, path);
}

function printable(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}
