const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WHITESPACE.has(text[i])) i += 1;
  return i;
}

/** Index just past the string literal starting at `i` (which must be a quote). */
function skipString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  if (j >= text.length) throw new Error('unterminated string');
  return j + 1;
}

/** Index just past the JSON value starting at `i`. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    let j = i;
    while (j < text.length) {
      const c = text[j];
      if (c === '"') {
        j = skipString(text, j);
        continue;
      }
      if (c === '{' || c === '[') depth += 1;
      if (c === '}' || c === ']') depth -= 1;
      j += 1;
      if (depth === 0) return j;
    }
    throw new Error('unterminated object or array');
  }
  let j = i;
  while (j < text.length && !WHITESPACE.has(text[j]) && text[j] !== ',' && text[j] !== '}' && text[j] !== ']') j += 1;
  if (j === i) throw new Error(`unexpected '${text[i] ?? 'end of input'}' at ${i}`);
  return j;
}

/**
 * Returns the exact source text of the member `key` of the top-level JSON object in `text`, without
 * re-serializing it: Intel signs the bytes of the inner `tcbInfo` / `enclaveIdentity` value as served,
 * so any reformatting would break the signature. Throws when `text` is not a JSON object, or when
 * `key` is missing or appears twice (JSON.parse would silently keep the last one).
 */
export function rawJsonMember(text: string, key: string): string {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  let i = skipWhitespace(text, 0) + 1;
  let found: string | undefined;
  for (;;) {
    i = skipWhitespace(text, i);
    if (text[i] === '}') break;
    const nameEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, nameEnd)) as string;
    i = skipWhitespace(text, nameEnd) + 1; // past ':'
    i = skipWhitespace(text, i);
    const valueEnd = skipValue(text, i);
    if (name === key) {
      if (found !== undefined) throw new Error(`duplicate member "${key}"`);
      found = text.slice(i, valueEnd);
    }
    i = skipWhitespace(text, valueEnd);
    if (text[i] === ',') i += 1;
  }
  if (found === undefined) throw new Error(`no member "${key}"`);
  return found;
}
