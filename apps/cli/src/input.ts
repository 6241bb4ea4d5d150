import { readFile } from 'node:fs/promises';

import { CliError } from './exit-codes';

/** Reads a file the user named; a missing or unreadable file is a usage error naming it. */
export async function readInputFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new CliError(
      `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Reads a text file the user named (UTF-8). */
export async function readInputText(path: string, what: string): Promise<string> {
  return (await readInputFile(path, what)).toString('utf8');
}

/** Parses an `--as-of` RFC 3339 time. */
export function parseAsOf(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(date.getTime())) {
    throw new CliError(`--as-of must be an RFC 3339 time such as 2025-06-25T00:00:00Z, got '${value}'`);
  }
  return date;
}
