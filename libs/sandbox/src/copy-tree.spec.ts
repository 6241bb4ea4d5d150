import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { copySourceTree } from './copy-tree';
import { SandboxError } from './sandbox.error';

let root: string;
let src: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'copy-tree-spec-'));
  src = join(root, 'src');
  mkdirSync(join(src, 'a/.git'), { recursive: true });
  mkdirSync(join(src, '.git/objects'), { recursive: true });
  writeFileSync(join(src, '.git/HEAD'), 'ref');
  writeFileSync(join(src, 'a/.git/x'), 'x');
  writeFileSync(join(src, 'plain.txt'), 'plain', { mode: 0o644 });
  writeFileSync(join(src, 'tool.sh'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(src, 'a/setuid'), 'x', { mode: 0o4755 });
  symlinkSync('../plain.txt', join(src, 'a/rel-link'));
  symlinkSync('/nonexistent/target', join(src, 'dangling'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('copySourceTree', () => {
  it('copies files, modes and symlinks verbatim, skips every .git and pins mtimes', async () => {
    const dest = join(root, 'dest');
    await copySourceTree(src, dest, { mtime: 1234567890 });
    expect(readFileSync(join(dest, 'plain.txt'), 'utf8')).toBe('plain');
    expect(lstatSync(join(dest, 'tool.sh')).mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(dest, 'a/setuid')).mode & 0o7777).toBe(0o755); // setuid dropped
    expect(readlinkSync(join(dest, 'a/rel-link'))).toBe('../plain.txt');
    expect(readlinkSync(join(dest, 'dangling'))).toBe('/nonexistent/target');
    expect(() => lstatSync(join(dest, '.git'))).toThrow();
    expect(() => lstatSync(join(dest, 'a/.git'))).toThrow();
    for (const p of ['plain.txt', 'a', 'a/rel-link', '.']) {
      expect(lstatSync(join(dest, p)).mtimeMs).toBe(1234567890_000);
    }
  });

  it('sets the owner when asked', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('chown needs root');
    const dest = join(root, 'dest');
    await copySourceTree(src, dest, { mtime: 0, owner: { uid: 1234, gid: 2345 } });
    for (const p of ['.', 'plain.txt', 'a', 'a/rel-link']) {
      expect(lstatSync(join(dest, p))).toMatchObject({ uid: 1234, gid: 2345 });
    }
  });

  it('refuses special files, an existing destination and a missing source', async () => {
    execFileSync('mkfifo', [join(src, 'fifo')]);
    await expect(copySourceTree(src, join(root, 'd1'), { mtime: 0 })).rejects.toThrow(/special file/);
    mkdirSync(join(root, 'd2'));
    await expect(copySourceTree(src, join(root, 'd2'), { mtime: 0 })).rejects.toThrow(SandboxError);
    await expect(copySourceTree(join(root, 'none'), join(root, 'd3'), { mtime: 0 })).rejects.toThrow(/does not exist/);
  });
});
