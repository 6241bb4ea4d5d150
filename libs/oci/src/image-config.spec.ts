import { describe, expect, it } from 'vitest';
import { BASE_LAYER_CREATED_BY, buildImageConfig, LAYER_CREATED_BY, ociArchitecture } from './image-config';
import { epochToRfc3339 } from './source-date-epoch';
import type { ImageConfig } from './types';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

const base: ImageConfig = {
  architecture: 'arm64',
  os: 'linux',
  variant: 'v8',
  created: '2020-01-01T00:00:00Z',
  config: {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_VERSION=20'],
    Entrypoint: ['docker-entrypoint.sh'],
    Cmd: ['node'],
    WorkingDir: '/',
    Labels: { maintainer: 'base' },
    StopSignal: 'SIGTERM',
  },
  rootfs: { type: 'layers', diff_ids: [D1, D2] },
  history: [
    { created: '2020-01-01T00:00:00Z', created_by: 'ADD rootfs' },
    { created: '2020-01-01T00:00:00Z', created_by: 'ENV X=1', empty_layer: true },
    { created: '2020-01-01T00:00:00Z', created_by: 'RUN install' },
  ],
};

describe('buildImageConfig', () => {
  it('stamps SOURCE_DATE_EPOCH, sorts Env by key and records one history entry per layer', () => {
    const config = buildImageConfig({
      config: { architecture: 'amd64', env: { ZED: '1', APP_MODE: 'prod', PATH: '/bin' }, cmd: ['node', 'main.js'] },
      sourceDateEpoch: 1700000000,
      diffIds: [D3],
      baseLayerCount: 0,
    });
    expect(config).toEqual({
      created: '2023-11-14T22:13:20Z',
      architecture: 'amd64',
      os: 'linux',
      variant: undefined,
      config: { Env: ['APP_MODE=prod', 'PATH=/bin', 'ZED=1'], Cmd: ['node', 'main.js'] },
      rootfs: { type: 'layers', diff_ids: [D3] },
      history: [{ created: '2023-11-14T22:13:20Z', created_by: LAYER_CREATED_BY }],
    });
  });

  it('inherits base settings, merges Env and labels, and keeps base history', () => {
    const config = buildImageConfig({
      config: { env: { NODE_ENV: 'production', PATH: '/app/bin:/usr/bin' }, labels: { 'org.example': 'x' } },
      sourceDateEpoch: 1700000000,
      diffIds: [D1, D2, D3],
      baseLayerCount: 2,
      baseConfig: base,
    });
    expect(config.architecture).toBe('arm64');
    expect(config.variant).toBe('v8');
    expect(config.config).toEqual({
      Env: ['NODE_ENV=production', 'NODE_VERSION=20', 'PATH=/app/bin:/usr/bin'],
      Entrypoint: ['docker-entrypoint.sh'],
      Cmd: ['node'],
      WorkingDir: '/',
      Labels: { maintainer: 'base', 'org.example': 'x' },
      StopSignal: 'SIGTERM',
    });
    expect(config.history).toHaveLength(4);
    expect(config.history?.[3]).toEqual({ created: '2023-11-14T22:13:20Z', created_by: LAYER_CREATED_BY });
    expect(config.rootfs.diff_ids).toEqual([D1, D2, D3]);
  });

  it('drops the base Cmd when a new entrypoint is set, as Docker does', () => {
    const config = buildImageConfig({
      config: { entrypoint: ['/app/server'] },
      sourceDateEpoch: 0,
      diffIds: [D1, D2, D3],
      baseLayerCount: 2,
      baseConfig: base,
    });
    expect(config.config?.Entrypoint).toEqual(['/app/server']);
    expect(config.config?.Cmd).toBeUndefined();
    expect(config.created).toBe('1970-01-01T00:00:00Z');
  });

  it('synthesizes base history when the base config has none matching its layers', () => {
    const config = buildImageConfig({
      config: {},
      sourceDateEpoch: 1700000000,
      diffIds: [D1, D2, D3],
      baseLayerCount: 2,
      baseConfig: { ...base, history: undefined },
    });
    expect(config.history?.map((entry) => entry.created_by)).toEqual([
      BASE_LAYER_CREATED_BY,
      BASE_LAYER_CREATED_BY,
      LAYER_CREATED_BY,
    ]);
  });

  it('refuses base layers that disagree with the base config rootfs', () => {
    expect(() =>
      buildImageConfig({ config: {}, sourceDateEpoch: 1, diffIds: [D2, D3], baseLayerCount: 1, baseConfig: base }),
    ).toThrow(/base config rootfs.diff_ids do not match/);
  });

  it('refuses invalid environment variable names', () => {
    expect(() =>
      buildImageConfig({ config: { env: { 'A=B': 'x' } }, sourceDateEpoch: 1, diffIds: [D1], baseLayerCount: 0 }),
    ).toThrow(/invalid environment variable name/);
  });
});

describe('helpers', () => {
  it('maps Node architectures to OCI names', () => {
    expect(ociArchitecture('x64')).toBe('amd64');
    expect(ociArchitecture('arm64')).toBe('arm64');
    expect(ociArchitecture('ia32')).toBe('386');
    expect(() => ociArchitecture('pdp11')).toThrow(/no OCI architecture/);
  });

  it('formats SOURCE_DATE_EPOCH as RFC 3339 without fractions', () => {
    expect(epochToRfc3339(1700000000)).toBe('2023-11-14T22:13:20Z');
    expect(() => epochToRfc3339(2 ** 31)).toThrow(/sourceDateEpoch/);
  });
});
