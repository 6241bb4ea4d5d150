import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareBytewise, normalizeMode, parseImagePath, planLayer } from './layer-plan';

let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'oci-plan-'));
  await mkdir(join(root, 'tree/sub'), { recursive: true });
  await writeFile(join(root, 'tree/a.txt'), 'abc');
  await writeFile(join(root, 'tree/sub/b.txt'), 'b');
  await symlink('/etc/passwd', join(root, 'tree/abs-link'));
  await writeFile(join(root, 'extra.conf'), 'x=1');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('planLayer', () => {
  it('maps a tree under its target, adds parents, keeps symlink targets verbatim and sorts by tar name', async () => {
    const plan = await planLayer([
      { from: join(root, 'extra.conf'), to: '/opt/app/etc/extra.conf' },
      { from: join(root, 'tree'), to: '/opt/app' },
    ]);
    expect(plan.map((entry) => [entry.path, entry.type])).toEqual([
      ['opt', 'directory'],
      ['opt/app', 'directory'],
      ['opt/app/a.txt', 'file'],
      ['opt/app/abs-link', 'symlink'],
      ['opt/app/etc', 'directory'],
      ['opt/app/etc/extra.conf', 'file'],
      ['opt/app/sub', 'directory'],
      ['opt/app/sub/b.txt', 'file'],
    ]);
    expect(plan.find((entry) => entry.path === 'opt/app/abs-link')).toMatchObject({ linkname: '/etc/passwd' });
    expect(plan.find((entry) => entry.path === 'opt/app/a.txt')).toMatchObject({ size: 3, mode: 0o644 });
  });

  it('maps a directory onto the root without a root entry', async () => {
    const plan = await planLayer([{ from: join(root, 'tree'), to: '/' }]);
    expect(plan.map((entry) => entry.path)).toEqual(['a.txt', 'abs-link', 'sub', 'sub/b.txt']);
  });

  it('refuses to map a file onto the root', async () => {
    await expect(planLayer([{ from: join(root, 'extra.conf'), to: '/' }])).rejects.toMatchObject({
      code: 'PATH_INVALID',
    });
  });

  it('refuses a relative source path', async () => {
    await expect(planLayer([{ from: 'tree', to: '/app' }])).rejects.toMatchObject({ code: 'PATH_INVALID' });
  });
});

describe('helpers', () => {
  it('normalizes modes independent of umask and special bits', () => {
    expect(normalizeMode('file', 0o100600)).toBe(0o644);
    expect(normalizeMode('file', 0o104700)).toBe(0o755);
    expect(normalizeMode('file', 0o100601)).toBe(0o755);
    expect(normalizeMode('directory', 0o40700)).toBe(0o755);
    expect(normalizeMode('symlink', 0o120755)).toBe(0o777);
  });

  it('compares UTF-8 bytes rather than UTF-16 code units', () => {
    // U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80) in bytes, after it in UTF-16.
    expect(compareBytewise('\uff5e', '\u{1f600}')).toBeLessThan(0);
    expect('\uff5e' < '\u{1f600}').toBe(false);
  });

  it('parses image paths and strips a trailing slash', () => {
    expect(parseImagePath('/usr/local/bin/')).toEqual(['usr', 'local', 'bin']);
    expect(parseImagePath('/')).toEqual([]);
    expect(() => parseImagePath('/a/../b')).toThrow(/escapes the root/);
  });
});
