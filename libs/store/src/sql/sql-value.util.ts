const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for canonical uuid text; checked before querying so malformed ids never reach SQL. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** Normalises int8/numeric values (pg returns strings, PGlite numbers or bigints). */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  throw new TypeError(`expected a numeric column value, got ${typeof value}`);
}

/** Normalises a nullable timestamptz column to `Date | null`. */
export function toDateOrNull(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(String(value));
}

/** Normalises a non-null timestamptz column to `Date`. */
export function toDate(value: unknown): Date {
  const date = toDateOrNull(value);
  if (date === null) throw new TypeError('expected a timestamp column value, got null');
  return date;
}
