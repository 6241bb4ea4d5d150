import { canonicalJson } from '@secure-build/common';
import { compareBytewise } from './layer-plan';
import { type LayerEntry, scanLayer } from './layer-reader';
import { type ImageLayout, readImageLayout } from './layout-reader';

/** How one path differs between two images. */
export type DifferenceKind = 'only-in-a' | 'only-in-b' | 'content' | 'metadata';

/** One differing path of one layer. */
export interface LayoutDifference {
  /** Absolute image path, e.g. `/app/main.js`. */
  path: string;
  kind: DifferenceKind;
  /** Index of the layer (base first) the path was compared in. */
  layer: number;
  /** Human-readable summary, e.g. `mode 0644 → 0755` or `sha256 ab12… → cd34…`. */
  detail?: string;
}

/** Outcome of comparing two image layouts, for reproducibility reports. */
export interface LayoutDiff {
  /** Bit-for-bit identical images (equal manifest digests). */
  identical: boolean;
  manifestDigestEqual: boolean;
  /** Same filesystem bytes in every layer; may hold while the manifest differs (other compressor). */
  diffIdsEqual: boolean;
  configDigestEqual: boolean;
  /** Top-level config keys (and `config.<Key>` runtime keys) whose values differ. */
  configDifferences: string[];
  differences: LayoutDifference[];
  /** Layers whose DiffIDs differ although every entry matched (entry order or tar encoding). */
  encodingOnlyLayers: number[];
}

/**
 * Compares two image layouts (both fully verified first) layer by layer, pairing layers by index.
 * Layers with equal DiffIDs are skipped; others are read entry by entry and every differing path is
 * reported, sorted by layer then byte-wise path.
 */
export async function diffLayouts(layoutA: string, layoutB: string): Promise<LayoutDiff> {
  const [a, b] = await Promise.all([readImageLayout(layoutA), readImageLayout(layoutB)]);
  const manifestDigestEqual = a.manifestDigest === b.manifestDigest;
  const diffIdsA = a.layers.map((layer) => layer.diffId);
  const diffIdsB = b.layers.map((layer) => layer.diffId);
  const result: LayoutDiff = {
    identical: manifestDigestEqual,
    manifestDigestEqual,
    diffIdsEqual: canonicalJson(diffIdsA) === canonicalJson(diffIdsB),
    configDigestEqual: a.configDigest === b.configDigest,
    configDifferences: diffConfigs(a, b),
    differences: [],
    encodingOnlyLayers: [],
  };
  if (manifestDigestEqual) return result;

  const count = Math.max(a.layers.length, b.layers.length);
  for (let layer = 0; layer < count; layer += 1) {
    const layerA = a.layers[layer];
    const layerB = b.layers[layer];
    if (layerA !== undefined && layerB !== undefined && layerA.diffId === layerB.diffId) continue;
    const entriesA = layerA === undefined ? [] : (await scanLayer(layoutA, layerA.digest)).entries;
    const entriesB = layerB === undefined ? [] : (await scanLayer(layoutB, layerB.digest)).entries;
    const differences = diffEntries(entriesA, entriesB, layer);
    if (differences.length === 0) result.encodingOnlyLayers.push(layer);
    result.differences.push(...differences);
  }
  return result;
}

/** Compares two entry lists by path (a later duplicate wins, as on extraction). */
export function diffEntries(
  entriesA: readonly LayerEntry[],
  entriesB: readonly LayerEntry[],
  layer = 0,
): LayoutDifference[] {
  const mapA = new Map(entriesA.map((entry) => [entry.path, entry]));
  const mapB = new Map(entriesB.map((entry) => [entry.path, entry]));
  const paths = [...new Set([...mapA.keys(), ...mapB.keys()])].sort(compareBytewise);
  const differences: LayoutDifference[] = [];
  for (const path of paths) {
    const entryA = mapA.get(path);
    const entryB = mapB.get(path);
    if (entryB === undefined) differences.push({ path, kind: 'only-in-a', layer });
    else if (entryA === undefined) differences.push({ path, kind: 'only-in-b', layer });
    else {
      const content = changes(entryA, entryB, ['type', 'size', 'sha256', 'linkname']);
      const metadata = changes(entryA, entryB, ['mode', 'uid', 'gid', 'uname', 'gname', 'mtime']);
      if (content.length > 0) differences.push({ path, kind: 'content', layer, detail: content.join('; ') });
      else if (metadata.length > 0) differences.push({ path, kind: 'metadata', layer, detail: metadata.join('; ') });
    }
  }
  return differences;
}

function changes(a: LayerEntry, b: LayerEntry, keys: (keyof LayerEntry)[]): string[] {
  return keys
    .filter((key) => a[key] !== b[key])
    .map((key) => `${key} ${formatValue(key, a[key])} → ${formatValue(key, b[key])}`);
}

function formatValue(key: keyof LayerEntry, value: LayerEntry[keyof LayerEntry]): string {
  if (value === undefined) return '(none)';
  if (key === 'mode' && typeof value === 'number') return `0${value.toString(8).padStart(3, '0')}`;
  if (key === 'sha256' && typeof value === 'string') return `${value.slice(0, 12)}…`;
  return String(value);
}

function diffConfigs(a: ImageLayout, b: ImageLayout): string[] {
  const keys = (x: object | undefined): string[] => Object.keys(x ?? {});
  const differing = (x: Record<string, unknown>, y: Record<string, unknown>, prefix: string): string[] =>
    [...new Set([...keys(x), ...keys(y)])]
      .filter((key) => canonicalJson(x[key] ?? null) !== canonicalJson(y[key] ?? null))
      .map((key) => `${prefix}${key}`);
  const configA = a.config as unknown as Record<string, unknown>;
  const configB = b.config as unknown as Record<string, unknown>;
  const runtime = differing(
    (a.config.config ?? {}) as Record<string, unknown>,
    (b.config.config ?? {}) as Record<string, unknown>,
    'config.',
  );
  const top = differing(configA, configB, '').filter((key) => key !== 'config');
  return [...top, ...runtime].sort(compareBytewise);
}
