import type { z } from 'zod';

/**
 * Turns a zod issue into `{field, message}` that a user can act on. zod 4 does not keep the
 * offending input on issues, so "missing" is told from "wrong type" by looking at `input` itself.
 */
export function describeSchemaIssue(issue: z.core.$ZodIssue, input: unknown): { field: string; message: string } {
  const path = issue.path.map(String);
  const field = path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return {
      field: path.length > 0 ? `${field}.${issue.keys.join(', ')}` : issue.keys.join(', '),
      message: 'unknown field',
    };
  }
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined)
    return { field, message: 'is required' };
  if (issue.code === 'invalid_key') return { field, message: issue.issues[0]?.message ?? issue.message };
  return { field, message: issue.message };
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
