import { SourceError } from './source.error';
import { hasControlCharacter } from '@secure-build/common';

/** One `submodule.<name>` section of `.gitmodules` (only the keys the checkout needs). */
export interface SubmoduleConfigEntry {
  name: string;
  path?: string;
  url?: string;
}

/** One gitlink (tree entry of mode 160000) of a commit. */
export interface Gitlink {
  path: string;
  commit: string;
}

/**
 * Parses `git config -z --get-regexp` output (`key\nvalue\0` records) of `.gitmodules` into
 * sections. Names may contain dots and spaces, so the key is split at its first and last dot.
 */
export function parseSubmoduleConfig(output: string): SubmoduleConfigEntry[] {
  const byName = new Map<string, SubmoduleConfigEntry>();
  for (const record of output.split('\0')) {
    if (record === '') continue;
    const newline = record.indexOf('\n');
    const key = newline < 0 ? record : record.slice(0, newline);
    const value = newline < 0 ? '' : record.slice(newline + 1);
    const m = /^submodule\.(.+)\.(path|url)$/.exec(key);
    if (!m) continue;
    const entry = byName.get(m[1]) ?? { name: m[1] };
    if (entry[m[2] as 'path' | 'url'] !== undefined) {
      throw new SourceError('SUBMODULE_INVALID', `.gitmodules sets submodule.${m[1]}.${m[2]} more than once`);
    }
    entry[m[2] as 'path' | 'url'] = value;
    byName.set(m[1], entry);
  }
  return [...byName.values()];
}

/** Parses `git ls-tree -r -z` output and returns the gitlinks plus the mode of `.gitmodules`. */
export function parseTreeListing(output: string): { gitlinks: Gitlink[]; gitmodulesMode?: string } {
  const gitlinks: Gitlink[] = [];
  let gitmodulesMode: string | undefined;
  for (const record of output.split('\0')) {
    if (record === '') continue;
    const m = /^(\d{6}) (\w+) ([0-9a-f]+)\t(.+)$/s.exec(record);
    if (!m) throw new SourceError('GIT_FAILED', 'unexpected git ls-tree output');
    if (m[1] === '160000') gitlinks.push({ path: m[4], commit: m[3] });
    if (m[4] === '.gitmodules') gitmodulesMode = m[1];
  }
  return { gitlinks, gitmodulesMode };
}

/**
 * True for a submodule path that stays inside the checkout: relative, no empty, `.`, `..` or
 * `.git` segments, no control characters, no segment that could be read as an option.
 */
export function isSafeSubmodulePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || hasControlCharacter(path)) return false;
  return path
    .split('/')
    .every((s) => s !== '' && s !== '.' && s !== '..' && s.toLowerCase() !== '.git' && !s.startsWith('-'));
}
