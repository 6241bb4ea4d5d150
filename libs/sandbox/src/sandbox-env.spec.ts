import { describe, expect, it } from 'vitest';

import { prlimitArgs } from './resource-limits';
import { buildEnvironment, RESERVED_ENV_NAMES, validateEnvName } from './sandbox-env';

describe('validateEnvName', () => {
  it.each(['A', '_x', 'npm_config_cache', 'GOFLAGS', 'A1_B2'])('accepts %s', (name) => {
    expect(() => validateEnvName(name)).not.toThrow();
  });

  it.each(['', '1A', 'A-B', 'A.B', 'A B', 'A=B', 'A\nB', 'É'])('refuses %j', (name) => {
    expect(() => validateEnvName(name)).toThrow(/invalid environment variable name/);
  });

  it.each([...RESERVED_ENV_NAMES])('refuses the reserved name %s', (name) => {
    expect(() => validateEnvName(name)).toThrow(/set by the sandbox/);
  });
});

describe('buildEnvironment', () => {
  it('is the fixed variables plus the recipe variables, nothing else', () => {
    expect(buildEnvironment({ GOFLAGS: '-trimpath' }, 42, { home: '/h', tmp: '/t' })).toEqual({
      SOURCE_DATE_EPOCH: '42',
      TZ: 'UTC',
      LC_ALL: 'C.UTF-8',
      HOME: '/h',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      TMPDIR: '/t',
      GOFLAGS: '-trimpath',
    });
  });

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2])('refuses SOURCE_DATE_EPOCH %s', (sde) => {
    expect(() => buildEnvironment({}, sde, { home: '/h', tmp: '/t' })).toThrow(/sourceDateEpoch/);
  });
});

describe('prlimitArgs', () => {
  it('maps every limit to prlimit flags and ignores tmpSizeBytes', () => {
    expect(
      prlimitArgs({
        memoryBytes: 1,
        cpuSeconds: 2,
        maxProcesses: 3,
        maxFileBytes: 4,
        maxOpenFiles: 5,
        tmpSizeBytes: 6,
      }),
    ).toEqual(['--as=1', '--cpu=2', '--nproc=3', '--fsize=4', '--nofile=5']);
    expect(prlimitArgs(undefined)).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.POSITIVE_INFINITY])('refuses %s', (value) => {
    expect(() => prlimitArgs({ maxOpenFiles: value })).toThrow(/maxOpenFiles must be a positive integer/);
  });
});
