import { isSha256Digest } from '@secure-build/common';
import { OciError } from './oci-error';
import { epochToRfc3339 } from './source-date-epoch';
import type { HistoryEntry, ImageConfig, ImageRuntimeConfig } from './types';

/** `history[].created_by` of layers written here; fixed so the config never names a host or version. */
export const LAYER_CREATED_BY = 'securebuild layer';
/** `created_by` given to base layers whose config carries no history. */
export const BASE_LAYER_CREATED_BY = 'securebuild base layer';

/** Image settings the caller controls; unset fields inherit from the base config when there is one. */
export interface ImageConfigInput {
  /** OCI architecture (`amd64`, `arm64`, …); default: the base's, else mapped from `process.arch`. */
  architecture?: string;
  /** Default: the base's, else `linux`. */
  os?: string;
  variant?: string;
  /** Replaces the base entrypoint; as in Docker, a new entrypoint also drops the base `Cmd`. */
  entrypoint?: string[];
  cmd?: string[];
  /** Merged over the base `Env` by key and emitted as `KEY=VALUE` sorted by key. */
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** Merged over the base labels by key. */
  labels?: Record<string, string>;
}

/** Input of {@link buildImageConfig}. */
export interface BuildImageConfigInput {
  config: ImageConfigInput;
  sourceDateEpoch: number;
  /** Every DiffID, base layers first. */
  diffIds: readonly string[];
  /** How many of `diffIds` come from the base image. */
  baseLayerCount: number;
  baseConfig?: ImageConfig;
}

const NODE_TO_OCI_ARCH: Record<string, string> = {
  arm: 'arm',
  arm64: 'arm64',
  ia32: '386',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
  ppc64: 'ppc64le',
  riscv64: 'riscv64',
  s390x: 's390x',
  x64: 'amd64',
};

/** OCI/Go architecture name for a Node `process.arch` value (x64 → amd64, ia32 → 386, …). */
export function ociArchitecture(nodeArch: string = process.arch): string {
  const arch = NODE_TO_OCI_ARCH[nodeArch];
  if (arch === undefined) throw new OciError('INVALID_INPUT', `no OCI architecture for Node arch ${nodeArch}`);
  return arch;
}

/**
 * Builds the image config: `created` and our history entry at SOURCE_DATE_EPOCH, `rootfs.diff_ids`
 * base first, runtime settings merged over the base config's. Pure; serialize with canonicalJson.
 */
export function buildImageConfig(input: BuildImageConfigInput): ImageConfig {
  const { config, baseConfig } = input;
  const created = epochToRfc3339(input.sourceDateEpoch);
  for (const diffId of input.diffIds) {
    if (!isSha256Digest(diffId)) throw new OciError('INVALID_INPUT', `not a sha256 diff_id: ${diffId}`);
  }
  const baseDiffIds = input.diffIds.slice(0, input.baseLayerCount);
  if (baseConfig !== undefined && !sameList(baseConfig.rootfs?.diff_ids ?? [], baseDiffIds)) {
    throw new OciError('LAYOUT_INVALID', 'base config rootfs.diff_ids do not match the base layers', {
      details: { configDiffIds: baseConfig.rootfs?.diff_ids, layerDiffIds: baseDiffIds },
    });
  }
  const base = baseConfig?.config ?? {};
  const runtime: ImageRuntimeConfig = {
    ...base,
    Env: mergeEnv(base.Env, config.env),
    Entrypoint: config.entrypoint ?? base.Entrypoint,
    Cmd: config.cmd ?? (config.entrypoint === undefined ? base.Cmd : undefined),
    WorkingDir: config.workingDir ?? base.WorkingDir,
    User: config.user ?? base.User,
    Labels: mergeRecord(base.Labels, config.labels),
  };
  const ownHistory: HistoryEntry[] = [{ created, created_by: LAYER_CREATED_BY }];
  const definedRuntime = Object.fromEntries(Object.entries(runtime).filter(([, v]) => v !== undefined));
  return {
    created,
    architecture: config.architecture ?? baseConfig?.architecture ?? ociArchitecture(),
    os: config.os ?? baseConfig?.os ?? 'linux',
    variant: config.variant ?? (config.architecture === undefined ? baseConfig?.variant : undefined),
    config: Object.keys(definedRuntime).length > 0 ? definedRuntime : undefined,
    rootfs: { type: 'layers', diff_ids: [...input.diffIds] },
    history: [...baseHistory(baseConfig, input.baseLayerCount, created), ...ownHistory],
  };
}

function baseHistory(baseConfig: ImageConfig | undefined, count: number, created: string): HistoryEntry[] {
  const history = baseConfig?.history;
  if (history !== undefined && history.filter((entry) => entry.empty_layer !== true).length === count) {
    return history;
  }
  return Array.from({ length: count }, () => ({ created, created_by: BASE_LAYER_CREATED_BY }));
}

function mergeEnv(base: string[] | undefined, own: Record<string, string> | undefined): string[] | undefined {
  if (base === undefined && own === undefined) return undefined;
  const byKey = new Map<string, string>();
  for (const item of base ?? []) {
    const eq = item.indexOf('=');
    byKey.set(eq === -1 ? item : item.slice(0, eq), item);
  }
  for (const [key, value] of Object.entries(own ?? {})) {
    if (key === '' || key.includes('=') || key.includes('\0')) {
      throw new OciError('INVALID_INPUT', `invalid environment variable name: ${JSON.stringify(key)}`);
    }
    byKey.set(key, `${key}=${value}`);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

function mergeRecord(
  base: Record<string, string> | undefined,
  own: Record<string, string> | undefined,
): Record<string, string> | undefined {
  return base === undefined && own === undefined ? undefined : { ...base, ...own };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
