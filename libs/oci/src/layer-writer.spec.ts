import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLayer } from './layer-writer';
import { OciError } from './oci-error';

const SDE = 1700000000;
const temps: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-layer-'));
  temps.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface TreeVariant {
  order: 'forward' | 'reverse';
  fileMode: number;
  dirMode: number;
  mtime: number;
}

const FILES: Record<string, string> = {
  'README.md': '# demo\n',
  'bin/run': '#!/bin/sh\necho run\n',
  'lib/a-b.js': 'module.exports = 1;\n',
  'lib/a/index.js': 'module.exports = 2;\n',
  'lib/z.js': 'module.exports = 3;\n',
  'lib/\u00e9t\u00e9.txt': 'non-ascii name\n',
};

/** Writes the same logical tree with varying creation order, modes and timestamps. */
async function makeTree(variant: TreeVariant): Promise<string> {
  const root = await tempDir();
  const names = Object.keys(FILES);
  if (variant.order === 'reverse') names.reverse();
  for (const name of names) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), FILES[name]);
    await chmod(join(root, name), name === 'bin/run' ? variant.fileMode | 0o100 : variant.fileMode);
  }
  await symlink('../README.md', join(root, 'lib/readme-link'));
  for (const dir of ['bin', 'lib', 'lib/a']) {
    await chmod(join(root, dir), variant.dirMode);
    await utimes(join(root, dir), variant.mtime, variant.mtime);
  }
  for (const name of names) await utimes(join(root, name), variant.mtime, variant.mtime);
  return root;
}

interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  uname: string;
  gname: string;
}

/** Minimal independent ustar reader (does not use tar-stream), pax headers reported as entries. */
function parseTar(tar: Buffer): RawHeader[] {
  const headers: RawHeader[] = [];
  const str = (offset: number, length: number): string =>
    tar
      .subarray(offset, offset + length)
      .toString('utf8')
      .replace(/\0.*$/s, '');
  const oct = (offset: number, length: number): number => parseInt(str(offset, length).trim() || '0', 8);
  let offset = 0;
  while (offset + 512 <= tar.length && tar[offset] !== 0) {
    const prefix = str(offset + 345, 155);
    const name = str(offset, 100);
    const size = oct(offset + 124, 12);
    headers.push({
      name: prefix ? `${prefix}/${name}` : name,
      mode: oct(offset + 100, 8),
      uid: oct(offset + 108, 8),
      gid: oct(offset + 116, 8),
      size,
      mtime: oct(offset + 136, 12),
      type: String.fromCharCode(tar[offset + 156]),
      uname: str(offset + 265, 32),
      gname: str(offset + 297, 32),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return headers;
}

function blobFile(blobsDir: string, digest: string): string {
  return join(blobsDir, 'sha256', digest.slice('sha256:'.length));
}

describe('writeLayer', () => {
  it('packs the same tree identically despite different mtimes, creation order and modes', async () => {
    const treeA = await makeTree({ order: 'forward', fileMode: 0o600, dirMode: 0o700, mtime: 978307200 });
    const treeB = await makeTree({ order: 'reverse', fileMode: 0o644, dirMode: 0o775, mtime: 1600000000 });
    const blobsA = join(await tempDir(), 'blobs');
    const blobsB = join(await tempDir(), 'blobs');

    const a = await writeLayer({ entries: [{ from: treeA, to: '/app' }], sourceDateEpoch: SDE, blobsDir: blobsA });
    const b = await writeLayer({ entries: [{ from: treeB, to: '/app' }], sourceDateEpoch: SDE, blobsDir: blobsB });

    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.digest).toBe(a.digest);
    expect(b.diffId).toBe(a.diffId);
    expect(b.size).toBe(a.size);
    expect(a.files).toBe(6);
    expect(a.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(await readFile(blobFile(blobsB, b.digest))).toEqual(await readFile(blobFile(blobsA, a.digest)));
  });

  it('writes sorted entries with uid/gid 0, no owner names, mtime = SOURCE_DATE_EPOCH and normalized modes', async () => {
    const tree = await makeTree({ order: 'reverse', fileMode: 0o600, dirMode: 0o700, mtime: 1600000000 });
    const blobsDir = join(await tempDir(), 'blobs');
    const result = await writeLayer({ entries: [{ from: tree, to: '/srv/app' }], sourceDateEpoch: SDE, blobsDir });

    const tar = gunzipSync(await readFile(blobFile(blobsDir, result.digest)));
    const headers = parseTar(tar).filter((header) => header.type !== 'x');
    const names = headers.map((header) => header.name);
    expect(names).toEqual([
      'srv/',
      'srv/app/',
      'srv/app/README.md',
      'srv/app/bin/',
      'srv/app/bin/run',
      'srv/app/lib/',
      'srv/app/lib/a-b.js', // "-" (0x2d) sorts before "/" (0x2f)
      'srv/app/lib/a/',
      'srv/app/lib/a/index.js',
      'srv/app/lib/readme-link',
      'srv/app/lib/z.js',
      'PaxHeader', // the non-ASCII name travels in a pax record
    ]);
    const byName = Object.fromEntries(headers.map((header) => [header.name, header]));
    for (const header of headers) {
      expect(header).toMatchObject({ uid: 0, gid: 0, mtime: SDE, uname: '', gname: '' });
    }
    expect(byName['srv/'].mode).toBe(0o755);
    expect(byName['srv/app/lib/a/'].mode).toBe(0o755);
    expect(byName['srv/app/README.md'].mode).toBe(0o644);
    expect(byName['srv/app/bin/run'].mode).toBe(0o755);
    expect(byName['srv/app/lib/readme-link']).toMatchObject({ type: '2', mode: 0o777 });
    // The pax record holds only the path: no atime/ctime/mtime fractions.
    const paxIndex = tar.indexOf('path=srv/app/lib/');
    const paxRecord = tar.subarray(paxIndex - 3, tar.indexOf('\n', paxIndex) + 1).toString('utf8');
    expect(paxRecord).toBe(`${Buffer.byteLength(paxRecord)} path=srv/app/lib/\u00e9t\u00e9.txt\n`);
    expect(tar.toString('latin1')).not.toMatch(/atime=|ctime=|mtime=/);
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(tar.length - 1024).every((byte) => byte === 0)).toBe(true);
    expect(result.uncompressedSize).toBe(tar.length);
  });

  it('writes a gzip header with MTIME 0, no FNAME and OS Unix, readable by gzip and GNU tar', async () => {
    const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
    const blobsDir = join(await tempDir(), 'blobs');
    const result = await writeLayer({ entries: [{ from: tree, to: '/app' }], sourceDateEpoch: SDE, blobsDir });
    const path = blobFile(blobsDir, result.digest);
    const blob = await readFile(path);

    expect([...blob.subarray(0, 4)]).toEqual([0x1f, 0x8b, 0x08, 0x00]); // FLG 0: no FNAME/FEXTRA/FCOMMENT
    expect(blob.readUInt32LE(4)).toBe(0);
    expect(blob[9]).toBe(3);
    expect(`sha256:${createHash('sha256').update(blob).digest('hex')}`).toBe(result.digest);
    expect(blob.length).toBe(result.size);

    expect(() => execFileSync('gzip', ['-t', path])).not.toThrow();
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvzf', path], {
      env: { PATH: '/usr/bin:/bin', TZ: 'UTC' },
    })
      .toString('utf8')
      .trim()
      .split('\n');
    expect(listing).toHaveLength(11);
    for (const line of listing) expect(line).toMatch(/ 0\/0 .* 2023-11-14 22:13:20 /);
    expect(listing.some((line) => line.includes('app/lib/readme-link -> ../README.md'))).toBe(true);
    expect(listing.some((line) => line.startsWith('-rwxr-xr-x') && line.endsWith('app/bin/run'))).toBe(true);

    const uncompressed = execFileSync('gunzip', ['-c', path], { maxBuffer: 64 * 1024 * 1024 });
    expect(`sha256:${createHash('sha256').update(uncompressed).digest('hex')}`).toBe(result.diffId);
  });

  it('maps single files and merges parent directories of several sources', async () => {
    const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
    const blobsDir = join(await tempDir(), 'blobs');
    const result = await writeLayer({
      entries: [
        { from: join(tree, 'README.md'), to: '/usr/share/doc/demo/README' },
        { from: join(tree, 'bin'), to: '/usr/bin' },
      ],
      sourceDateEpoch: SDE,
      blobsDir,
    });
    const names = parseTar(gunzipSync(await readFile(blobFile(blobsDir, result.digest)))).map((h) => h.name);
    expect(names).toEqual([
      'usr/',
      'usr/bin/',
      'usr/bin/run',
      'usr/share/',
      'usr/share/doc/',
      'usr/share/doc/demo/',
      'usr/share/doc/demo/README',
    ]);
    expect(result).toMatchObject({ files: 2, entries: 7 });
  });

  it('changes digest and diffId when SOURCE_DATE_EPOCH changes', async () => {
    const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
    const blobsDir = join(await tempDir(), 'blobs');
    const a = await writeLayer({ entries: [{ from: tree, to: '/app' }], sourceDateEpoch: SDE, blobsDir });
    const b = await writeLayer({ entries: [{ from: tree, to: '/app' }], sourceDateEpoch: SDE + 1, blobsDir });
    expect(b.diffId).not.toBe(a.diffId);
    expect(b.digest).not.toBe(a.digest);
  });

  describe('rejections', () => {
    async function expectCode(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OciError);
      expect((error as OciError).code).toBe(code);
      expect((error as OciError).message).toMatch(message);
    }

    it('refuses a missing source', async () => {
      const root = await tempDir();
      const blobsDir = join(root, 'blobs');
      const missing = join(root, 'does-not-exist');
      await expectCode(
        writeLayer({ entries: [{ from: missing, to: '/app' }], sourceDateEpoch: SDE, blobsDir }),
        'OUTPUT_MISSING',
        new RegExp(missing),
      );
    });

    it('refuses two sources mapped to the same file path', async () => {
      const root = await tempDir();
      await writeFile(join(root, 'one'), '1');
      await writeFile(join(root, 'two'), '2');
      await expectCode(
        writeLayer({
          entries: [
            { from: join(root, 'one'), to: '/app/config' },
            { from: join(root, 'two'), to: '/app/config' },
          ],
          sourceDateEpoch: SDE,
          blobsDir: join(root, 'blobs'),
        }),
        'PATH_CONFLICT',
        /\/app\/config is mapped twice: .*one.*two/,
      );
    });

    it('refuses a file mapped onto a path a directory source already provides', async () => {
      const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
      await expectCode(
        writeLayer({
          entries: [
            { from: tree, to: '/app' },
            { from: join(tree, 'lib/z.js'), to: '/app/README.md' },
          ],
          sourceDateEpoch: SDE,
          blobsDir: join(await tempDir(), 'blobs'),
        }),
        'PATH_CONFLICT',
        /\/app\/README\.md/,
      );
    });

    it('refuses a path that would be written through a symlink', async () => {
      const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
      await expectCode(
        writeLayer({
          entries: [
            { from: tree, to: '/app' },
            { from: join(tree, 'lib/z.js'), to: '/app/lib/readme-link/z.js' },
          ],
          sourceDateEpoch: SDE,
          blobsDir: join(await tempDir(), 'blobs'),
        }),
        'PATH_CONFLICT',
        /\/app\/lib\/readme-link is mapped twice: symlink from .* and directory from parent directories of \/app\/lib\/readme-link\/z\.js/,
      );
    });

    it('refuses ".." and relative or unnormalized image paths', async () => {
      const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
      const blobsDir = join(await tempDir(), 'blobs');
      for (const to of ['/app/../etc', '/../x', 'app', '/app//x', '/app/./x']) {
        await expectCode(
          writeLayer({ entries: [{ from: tree, to }], sourceDateEpoch: SDE, blobsDir }),
          'PATH_INVALID',
          /image path/,
        );
      }
    });

    it('refuses whiteout names, which runtimes would read as deletions', async () => {
      const root = await tempDir();
      await mkdir(join(root, 'out'));
      await writeFile(join(root, 'out/.wh.passwd'), '');
      await expectCode(
        writeLayer({ entries: [{ from: join(root, 'out'), to: '/etc' }], sourceDateEpoch: SDE, blobsDir: root }),
        'PATH_INVALID',
        /\/etc\/\.wh\.passwd/,
      );
    });

    it('refuses fifos, listing them, and leaves no temporary file behind', async () => {
      const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
      execFileSync('mkfifo', [join(tree, 'lib/pipe')]);
      const blobsDir = join(await tempDir(), 'blobs');
      await expectCode(
        writeLayer({ entries: [{ from: tree, to: '/app' }], sourceDateEpoch: SDE, blobsDir }),
        'UNSUPPORTED_FILE_TYPE',
        new RegExp(`${join(tree, 'lib/pipe')}`),
      );
      const leftovers = await readdir(blobsDir).catch(() => []);
      expect(leftovers.filter((name) => name.startsWith('.tmp-'))).toEqual([]);
    });

    it('refuses an invalid SOURCE_DATE_EPOCH or compression level', async () => {
      const tree = await makeTree({ order: 'forward', fileMode: 0o644, dirMode: 0o755, mtime: 1600000000 });
      const blobsDir = join(await tempDir(), 'blobs');
      const entries = [{ from: tree, to: '/app' }];
      await expectCode(writeLayer({ entries, sourceDateEpoch: 1.5, blobsDir }), 'INVALID_INPUT', /sourceDateEpoch/);
      await expectCode(writeLayer({ entries, sourceDateEpoch: -1, blobsDir }), 'INVALID_INPUT', /sourceDateEpoch/);
      await expectCode(
        writeLayer({ entries, sourceDateEpoch: SDE, blobsDir, compressionLevel: 10 }),
        'INVALID_INPUT',
        /compressionLevel/,
      );
    });
  });
});
