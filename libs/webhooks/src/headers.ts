/**
 * Request headers as Node gives them in `req.headers`: lower-case names, string values, repeated
 * custom headers joined with ", ". Pass `req.headers`, not `req.headersDistinct`: any array value
 * is treated as a repeated header and refused.
 */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** One header as read for verification: absent (or empty), repeated, or a single value. */
export type HeaderRead = { status: 'absent' } | { status: 'repeated' } | { status: 'present'; value: string };

/** Matches how Node joins a repeated header whose value can never contain a comma. */
export const ANY_COMMA = /,/;

/**
 * Reads one header by name, case-insensitively so that hand-built header objects work too. A header
 * present under two spellings, given as an array, or whose value matches `repeated` (how Node joins
 * duplicates) is reported as repeated: a delivery must never carry two candidate values.
 */
export function readHeader(headers: IncomingHeaders, name: string, repeated?: RegExp): HeaderRead {
  if (headers === null || typeof headers !== 'object') throw new TypeError('headers must be an object');
  let found: string | string[] | undefined;
  let count = 0;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value = headers[key];
    if (value === undefined) continue;
    found = value;
    count += 1;
  }
  if (count > 1 || Array.isArray(found)) return { status: 'repeated' };
  if (typeof found !== 'string' || found.trim() === '') return { status: 'absent' };
  if (repeated?.test(found)) return { status: 'repeated' };
  return { status: 'present', value: found };
}
