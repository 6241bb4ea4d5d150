import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { describeSchemaIssue } from './schema-issue';

const schema = z.object({ name: z.string(), nested: z.object({ count: z.number() }).strict() }).strict();
const firstIssue = (input: unknown) => describeSchemaIssue(schema.safeParse(input).error!.issues[0], input);

describe('describeSchemaIssue', () => {
  it('tells a missing field from a wrong type', () => {
    expect(firstIssue({ nested: { count: 1 } })).toEqual({ field: 'name', message: 'is required' });
    expect(firstIssue({ name: 42, nested: { count: 1 } })).toMatchObject({
      field: 'name',
      message: expect.stringMatching(/expected string/),
    });
    expect(firstIssue({ name: 'x', nested: {} })).toEqual({ field: 'nested.count', message: 'is required' });
  });

  it('names unknown fields with their path', () => {
    expect(firstIssue({ name: 'x', nested: { count: 1 }, extra: true })).toEqual({
      field: 'extra',
      message: 'unknown field',
    });
    expect(firstIssue({ name: 'x', nested: { count: 1, more: 2 } })).toEqual({
      field: 'nested.more',
      message: 'unknown field',
    });
  });
});
