/** True for C0 controls, DEL and C1 controls (U+0000–U+001F, U+007F–U+009F), including NUL and newlines. */
export function isControlCharacter(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/** True when `text` contains any control character. */
export function hasControlCharacter(text: string): boolean {
  return [...text].some(isControlCharacter);
}

/** `text` with every control character (newlines included) replaced by `replacement`. */
export function replaceControlCharacters(text: string, replacement: string): string {
  return [...text].map((c) => (isControlCharacter(c) ? replacement : c)).join('');
}
