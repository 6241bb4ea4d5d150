import { describe, expect, it } from 'vitest';

import { buildJobId, InvalidJobError, parseBuildJob, runBuildJobOptions } from './build-job';
import { BuildJobName } from './queue-names';

const VALID = {
  buildId: '0b6f5e2c-3f1a-4c1e-9a57-8f3b2c1d0e9f',
  repository: 'https://git.example.com/org/wallet.git',
  commit: 'a'.repeat(40),
  recipePath: 'securebuild.yaml',
};

describe('parseBuildJob', () => {
  it('accepts a valid build.run payload', () => {
    expect(parseBuildJob(BuildJobName.Run, VALID)).toEqual({ name: BuildJobName.Run, data: VALID });
  });

  it.each([
    ['unknown job name', 'build.delete', VALID, /unknown job name/],
    ['missing build id', BuildJobName.Run, { ...VALID, buildId: undefined }, /buildId/],
    ['short commit', BuildJobName.Run, { ...VALID, commit: 'abc123' }, /commit/],
    ['extra field', BuildJobName.Run, { ...VALID, shell: 'rm -rf /' }, /shell/],
    ['not an object', BuildJobName.Run, 'build me', /root/],
  ])('rejects %s', (_case, name, data, message) => {
    expect(() => parseBuildJob(name, data)).toThrow(InvalidJobError);
    expect(() => parseBuildJob(name, data)).toThrow(message);
  });
});

describe('runBuildJobOptions', () => {
  it('derives a stable job id without the separator BullMQ reserves', () => {
    const options = runBuildJobOptions(VALID.buildId, 3);
    expect(options.jobId).toBe(buildJobId(VALID.buildId));
    expect(options.jobId).not.toContain(':');
    expect(options).toMatchObject({ attempts: 3, backoff: { type: 'exponential' } });
  });
});
