import { isUuid } from '../sql/sql-value.util';
import { StoreError } from '../store.error';

/** Position after the last item of a page: keyset on (created_at desc, id desc). */
export interface BuildCursor {
  createdAt: Date;
  id: string;
}

/** Encodes a keyset position as opaque base64url. */
export function encodeBuildCursor(cursor: BuildCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), i: cursor.id })).toString('base64url');
}

/** Decodes a cursor from encodeBuildCursor; anything else throws StoreError('INVALID_CURSOR'). */
export function decodeBuildCursor(text: string): BuildCursor {
  const invalid = () => new StoreError('INVALID_CURSOR', 'malformed page cursor');
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(text)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid();
  const { t, i } = parsed as Record<string, unknown>;
  if (typeof t !== 'string' || !isUuid(i)) throw invalid();
  const createdAt = new Date(t);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) throw invalid();
  return { createdAt, id: i.toLowerCase() };
}
