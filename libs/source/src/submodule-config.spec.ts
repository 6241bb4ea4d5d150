import { describe, expect, it } from 'vitest';

import { isSafeSubmodulePath, parseSubmoduleConfig, parseTreeListing } from './submodule-config';

const SHA = 'a'.repeat(40);

describe('parseSubmoduleConfig', () => {
  it('groups path and url by submodule name, including names with dots and spaces', () => {
    const out = 'submodule.lib.path\nlib\x00submodule.lib.url\n../lib.git\x00submodule.a b.c.path\nx/y\x00';
    expect(parseSubmoduleConfig(out)).toEqual([
      { name: 'lib', path: 'lib', url: '../lib.git' },
      { name: 'a b.c', path: 'x/y' },
    ]);
  });

  it('refuses a key set twice', () => {
    expect(() => parseSubmoduleConfig('submodule.a.url\nx\x00submodule.a.url\ny\x00')).toThrow(/more than once/);
  });
});

describe('parseTreeListing', () => {
  it('returns gitlinks and the mode of .gitmodules', () => {
    const out = `100644 blob ${SHA}\t.gitmodules\x00160000 commit ${SHA}\tlib/sub\x00100644 blob ${SHA}\ta b\x00`;
    expect(parseTreeListing(out)).toEqual({ gitlinks: [{ path: 'lib/sub', commit: SHA }], gitmodulesMode: '100644' });
  });

  it('reports a symlinked .gitmodules by its mode and rejects garbage', () => {
    expect(parseTreeListing(`120000 blob ${SHA}\t.gitmodules\x00`).gitmodulesMode).toBe('120000');
    expect(() => parseTreeListing('garbage\x00')).toThrow(/unexpected git ls-tree output/);
  });
});

describe('isSafeSubmodulePath', () => {
  it.each(['lib', 'lib/sub', 'a.b/c-d'])('accepts %s', (p) => expect(isSafeSubmodulePath(p)).toBe(true));
  it.each(['', '/abs', '../x', 'a/../b', 'a//b', './a', '.git', 'a/.GIT/x', '-x', 'a/-x', 'a\nb', 'a\\b'])(
    'refuses %j',
    (p) => expect(isSafeSubmodulePath(p)).toBe(false),
  );
});
