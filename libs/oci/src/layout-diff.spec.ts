import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeImageLayout, type WriteImageLayoutOptions } from './image-layout';
import { diffEntries, diffLayouts } from './layout-diff';
import type { LayerEntry } from './layer-reader';

const temps: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-diff-'));
  temps.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Builds a layout from files given as name → [content, mode]. */
async function build(
  files: Record<string, [string, number]>,
  overrides: Partial<WriteImageLayoutOptions> = {},
): Promise<string> {
  const tree = await tempDir();
  for (const [name, [content, mode]] of Object.entries(files)) {
    await writeFile(join(tree, name), content);
    await chmod(join(tree, name), mode);
  }
  const outDir = await tempDir();
  await writeImageLayout({
    outDir,
    layers: [{ from: tree, to: '/app' }],
    sourceDateEpoch: 1700000000,
    config: { architecture: 'amd64', env: { MODE: 'prod' } },
    ...overrides,
  });
  return outDir;
}

const baseline: Record<string, [string, number]> = {
  'main.js': ['console.log(1);\n', 0o644],
  'run.sh': ['#!/bin/sh\n', 0o644],
  'gone.txt': ['bye\n', 0o644],
};

describe('diffLayouts', () => {
  it('reports identical rebuilds', async () => {
    const a = await build(baseline);
    const b = await build(baseline);
    expect(await diffLayouts(a, b)).toEqual({
      identical: true,
      manifestDigestEqual: true,
      diffIdsEqual: true,
      configDigestEqual: true,
      configDifferences: [],
      differences: [],
      encodingOnlyLayers: [],
    });
  });

  it('names changed content, added and removed files and a mode change', async () => {
    const a = await build(baseline);
    const b = await build({
      'main.js': ['console.log(2);\n', 0o644],
      'run.sh': ['#!/bin/sh\n', 0o755],
      'new.txt': ['hello\n', 0o644],
    });
    const diff = await diffLayouts(a, b);
    expect(diff).toMatchObject({ identical: false, manifestDigestEqual: false, diffIdsEqual: false });
    expect(diff.differences).toEqual([
      { path: '/app/gone.txt', kind: 'only-in-a', layer: 0 },
      {
        path: '/app/main.js',
        kind: 'content',
        layer: 0,
        detail: expect.stringMatching(/^sha256 [0-9a-f]{12}… → [0-9a-f]{12}…$/),
      },
      { path: '/app/new.txt', kind: 'only-in-b', layer: 0 },
      { path: '/app/run.sh', kind: 'metadata', layer: 0, detail: 'mode 0644 → 0755' },
    ]);
  });

  it('separates filesystem identity from compressor output and config changes', async () => {
    const a = await build(baseline);
    const b = await build(baseline, { compressionLevel: 9, config: { architecture: 'amd64', env: { MODE: 'dev' } } });
    const diff = await diffLayouts(a, b);
    expect(diff).toMatchObject({
      identical: false,
      manifestDigestEqual: false,
      diffIdsEqual: true,
      configDigestEqual: false,
      configDifferences: ['config.Env'],
      differences: [],
    });
  });
});

describe('diffEntries', () => {
  const entry = (overrides: Partial<LayerEntry>): LayerEntry => ({
    path: '/x',
    type: 'file',
    mode: 0o644,
    size: 1,
    sha256: 'a'.repeat(64),
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    mtime: 1,
    ...overrides,
  });

  it('treats a changed type or symlink target as content, owner and mtime as metadata', () => {
    const a = [
      entry({ path: '/l', type: 'symlink', linkname: 'a', sha256: undefined, size: 0 }),
      entry({ path: '/o', uid: 0 }),
      entry({ path: '/t', mtime: 1 }),
    ];
    const b = [
      entry({ path: '/l', type: 'symlink', linkname: 'b', sha256: undefined, size: 0 }),
      entry({ path: '/o', uid: 1000 }),
      entry({ path: '/t', mtime: 2 }),
    ];
    expect(diffEntries(a, b)).toEqual([
      { path: '/l', kind: 'content', layer: 0, detail: 'linkname a → b' },
      { path: '/o', kind: 'metadata', layer: 0, detail: 'uid 0 → 1000' },
      { path: '/t', kind: 'metadata', layer: 0, detail: 'mtime 1 → 2' },
    ]);
  });
});
