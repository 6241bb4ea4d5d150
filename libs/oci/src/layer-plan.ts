import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { OciError } from './oci-error';

/** One host path (file, directory or symlink) copied to an absolute path inside the image. */
export interface LayerSource {
  /** Absolute host path; a symlink here is stored as a symlink, never followed. */
  from: string;
  /** Absolute, normalized path inside the image, e.g. `/app`; `/` maps a directory onto the root. */
  to: string;
}

/** Entry kinds a layer can hold; anything else on disk is refused. */
export type PlannedEntryType = 'directory' | 'file' | 'symlink';

/** One tar entry to write, with its header already normalized. */
export interface PlannedEntry {
  /** Path in the tar, no leading slash, no trailing slash (added for directories when encoding). */
  path: string;
  type: PlannedEntryType;
  /** Normalized permission bits: 0755 dirs, 0755/0644 files, 0777 symlinks. */
  mode: number;
  /** Host path the content comes from; absent for directories synthesized as parents of `to`. */
  hostPath?: string;
  /** Byte size observed while walking (files only). */
  size: number;
  /** Symlink target, stored verbatim. */
  linkname?: string;
}

const WHITEOUT_PREFIX = '.wh.';

/** Normalized mode for an entry: directories 0755, files 0755 if any execute bit else 0644, symlinks 0777. */
export function normalizeMode(type: PlannedEntryType, hostMode: number): number {
  if (type === 'directory') return 0o755;
  if (type === 'symlink') return 0o777;
  return hostMode & 0o111 ? 0o755 : 0o644;
}

/** Byte-wise comparison of UTF-8 encodings (GNU tar `--sort=name` order, not UTF-16 order). */
export function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Validates an image path (`to`) and returns its components; `/` yields none. */
export function parseImagePath(to: string): string[] {
  if (typeof to !== 'string' || !to.startsWith('/')) {
    throw new OciError('PATH_INVALID', `image path must be absolute: ${JSON.stringify(to)}`, { details: { to } });
  }
  if (to === '/') return [];
  const parts = to.replace(/\/$/, '').slice(1).split('/');
  for (const part of parts) {
    if (part === '..') {
      throw new OciError('PATH_INVALID', `image path escapes the root via "..": ${to}`, { details: { to } });
    }
    if (part === '' || part === '.' || part.includes('\0')) {
      throw new OciError('PATH_INVALID', `image path is not normalized: ${JSON.stringify(to)}`, { details: { to } });
    }
    assertNotWhiteout(part, to);
  }
  return parts;
}

// Runtimes read `.wh.*` names as deletions of lower-layer files; build output must not smuggle them in.
function assertNotWhiteout(name: string, where: string): void {
  if (name.startsWith(WHITEOUT_PREFIX)) {
    throw new OciError('PATH_INVALID', `whiteout names are reserved in layers: ${where}`, { details: { path: where } });
  }
}

interface Collector {
  entries: Map<string, PlannedEntry & { origin: string }>;
  unsupported: string[];
  /** File-system calls since the walk last gave the event loop a turn. */
  calls: number;
}

// The walk uses synchronous lstat/readdir/readlink: on a warm cache each costs microseconds, while
// a promise-based call pays a thread-pool round trip (tens to hundreds of microseconds on a busy
// machine) per entry. Every YIELD_EVERY calls the event loop gets a turn, so a large tree never
// blocks it for more than a few milliseconds at a time.
const YIELD_EVERY = 256;

async function counted<T>(collector: Collector, call: () => T): Promise<T> {
  collector.calls += 1;
  if (collector.calls >= YIELD_EVERY) {
    collector.calls = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return call();
}

/**
 * Walks every source (recursively for directories, never following symlinks), maps host paths to
 * image paths, adds parent directories of each `to`, rejects conflicts and unsupported file types,
 * and returns the entries sorted byte-wise by tar name (full path, directories with a trailing
 * slash, so each subtree is contiguous and parents precede children). Only metadata is held in memory.
 */
export async function planLayer(sources: readonly LayerSource[]): Promise<PlannedEntry[]> {
  const collector: Collector = { entries: new Map(), unsupported: [], calls: 0 };
  for (const source of sources) {
    if (!isAbsolute(source.from)) {
      throw new OciError('PATH_INVALID', `source path must be absolute: ${source.from}`, {
        details: { from: source.from },
      });
    }
    const parts = parseImagePath(source.to);
    for (let i = 1; i < parts.length; i += 1) {
      const parent = { path: parts.slice(0, i).join('/'), type: 'directory' as const, mode: 0o755, size: 0 };
      add(collector, parent, `parent directories of ${source.to}`);
    }
    let stats: Stats;
    try {
      stats = lstatSync(source.from);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new OciError('OUTPUT_MISSING', `layer source does not exist: ${source.from}`, {
          cause: error,
          details: { from: source.from },
        });
      }
      throw error;
    }
    if (parts.length === 0 && !stats.isDirectory()) {
      throw new OciError('PATH_INVALID', `only a directory can be mapped to "/": ${source.from}`, {
        details: { from: source.from },
      });
    }
    await visit(collector, source.from, parts.join('/'), stats, source.from);
  }
  if (collector.unsupported.length > 0) {
    const list = collector.unsupported.sort(compareBytewise);
    throw new OciError('UNSUPPORTED_FILE_TYPE', `sockets, fifos and devices cannot be packed: ${list.join(', ')}`, {
      details: { paths: list },
    });
  }
  // Sort on the tar names (directories end in "/"), which keeps every directory's subtree contiguous.
  // Each name is encoded once; Buffer.compare is the byte-wise order of compareBytewise.
  const sorted = [...collector.entries.values()]
    .map((entry) => ({ entry, key: Buffer.from(tarName(entry), 'utf8') }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ entry }) => entry);
  for (const entry of sorted) {
    const slash = entry.path.lastIndexOf('/');
    if (slash === -1) continue;
    const parent = collector.entries.get(entry.path.slice(0, slash));
    if (parent?.type !== 'directory') {
      throw new OciError(
        'PATH_CONFLICT',
        `/${entry.path} (from ${entry.origin}) lies under /${entry.path.slice(0, slash)}, which is a ${parent?.type ?? 'missing'} (from ${parent?.origin ?? '?'})`,
        { details: { path: `/${entry.path}` } },
      );
    }
  }
  return sorted.map(({ origin: _origin, ...entry }) => entry);
}

/** Name of an entry inside the tar: no leading slash, directories with a trailing slash. */
export function tarName(entry: Pick<PlannedEntry, 'path' | 'type'>): string {
  return entry.type === 'directory' ? `${entry.path}/` : entry.path;
}

async function visit(
  collector: Collector,
  hostPath: string,
  imagePath: string,
  stats: Stats,
  origin: string,
): Promise<void> {
  if (stats.isDirectory()) {
    if (imagePath !== '')
      add(collector, { path: imagePath, type: 'directory', mode: 0o755, hostPath, size: 0 }, origin);
    const names = await counted(collector, () => readdirSync(hostPath));
    names.sort(compareBytewise);
    for (const name of names) {
      const childImage = imagePath === '' ? name : `${imagePath}/${name}`;
      assertNotWhiteout(name, `/${childImage}`);
      const childHost = join(hostPath, name);
      await visit(collector, childHost, childImage, await counted(collector, () => lstatSync(childHost)), childHost);
    }
  } else if (stats.isFile()) {
    const mode = normalizeMode('file', stats.mode);
    add(collector, { path: imagePath, type: 'file', mode, hostPath, size: stats.size }, origin);
  } else if (stats.isSymbolicLink()) {
    const linkname = await counted(collector, () => readlinkSync(hostPath));
    add(collector, { path: imagePath, type: 'symlink', mode: 0o777, hostPath, size: 0, linkname }, origin);
  } else {
    collector.unsupported.push(hostPath);
  }
}

function add(collector: Collector, entry: PlannedEntry, origin: string): void {
  const existing = collector.entries.get(entry.path);
  if (existing === undefined) {
    collector.entries.set(entry.path, { ...entry, origin });
    return;
  }
  // Two directories at one path merge: their normalized headers are identical.
  if (existing.type === 'directory' && entry.type === 'directory') return;
  throw new OciError(
    'PATH_CONFLICT',
    `/${entry.path} is mapped twice: ${existing.type} from ${existing.origin} and ${entry.type} from ${origin}`,
    { details: { path: `/${entry.path}`, first: existing.origin, second: origin } },
  );
}
