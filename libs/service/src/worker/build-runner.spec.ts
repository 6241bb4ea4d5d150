import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSimulatedTdxProvider } from '@secure-build/attestation';
import { BuilderIdentity, establishBuilderIdentity } from '@secure-build/build';
import type { RunBuildPayload } from '@secure-build/queue';
import type { Store } from '@secure-build/store';

import { openTestStore } from '../testing/service-fixture';
import { BuildInterrupted, BuildRunFailed, BuildRunner } from './build-runner';

const RECIPE = (run: string) =>
  `apiVersion: securebuild/v1\nbuild:\n  run: ${JSON.stringify(run)}\n  outputs:\n    - { from: out, to: /app }\nimage:\n  base: scratch\n`;

function repo(run: string): { dir: string; commit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-runner-repo-'));
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@e',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@e',
  };
  execFileSync('git', ['init', '-q', dir], { env });
  writeFileSync(join(dir, 'securebuild.yaml'), RECIPE(run));
  execFileSync('git', ['-C', dir, 'add', '-A'], { env });
  execFileSync('git', ['-C', dir, 'commit', '-qm', 'x'], { env });
  return { dir, commit: execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { env, encoding: 'utf8' }).trim() };
}

describe(BuildRunner.name, () => {
  let store: Store;
  let identity: BuilderIdentity;
  let runner: BuildRunner;
  const never = new AbortController().signal;

  const accept = async (source: { dir: string; commit: string }): Promise<RunBuildPayload> => {
    const { build } = await store.builds.create({
      repository: `file://${source.dir}`,
      commit: source.commit,
      recipePath: 'securebuild.yaml',
    });
    return { buildId: build.id, repository: build.repository, commit: build.commit, recipePath: build.recipePath };
  };

  beforeAll(async () => {
    store = await openTestStore();
    identity = await establishBuilderIdentity(createSimulatedTdxProvider());
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-runner-data-'));
    chmodSync(dataDir, 0o711);
    execFileSync('mkdir', ['-m', '711', join(dataDir, 'work')]);
    runner = new BuildRunner(store, identity, {
      dataDir,
      workerId: 'test-worker',
      publicUrl: 'https://build.example.com',
      allowLocalRepos: true,
      insecureNoSandbox: false,
      rebuild: false,
      builderVersion: { 'secure-build': 'test' },
      cancelPollMs: 100,
    });
  });
  afterAll(async () => store.close());

  it('builds, stores one bundle, and skips a second delivery of the same build', async () => {
    const payload = await accept(repo('mkdir -p out && echo ok > out/x'));
    expect(await runner.run(payload, { attempt: 1, maxAttempts: 3, shutdown: never })).toBe('succeeded');
    const build = await store.builds.get(payload.buildId);
    expect(build).toMatchObject({ status: 'succeeded', attempts: 1, workerId: 'test-worker' });
    expect(JSON.parse((await store.bundles.get(payload.buildId))?.bundleJson ?? '{}').mediaType).toBe(
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    expect(await runner.run(payload, { attempt: 2, maxAttempts: 3, shutdown: never })).toBe('skipped');
    expect(await store.bundles.findBySubject('sha256', (build?.manifestDigest ?? '').slice(7))).toHaveLength(1);
    const logs = (await store.logs.read(payload.buildId, 0, 100)).map((c) => c.chunk).join('');
    expect(logs).toContain('provenance stored');
  });

  it('refuses a job whose payload differs from the accepted build, without running it', async () => {
    const payload = await accept(repo('true'));
    await expect(
      runner.run({ ...payload, commit: 'f'.repeat(40) }, { attempt: 1, maxAttempts: 3, shutdown: never }),
    ).rejects.toMatchObject({
      code: 'JOB_MISMATCH',
      retryable: false,
    });
    expect((await store.builds.get(payload.buildId))?.status).toBe('queued');
  });

  it('fails a build for good on a build error (no retry can fix it)', async () => {
    const payload = await accept(repo('echo broken >&2; exit 7'));
    const error = await runner.run(payload, { attempt: 1, maxAttempts: 3, shutdown: never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildRunFailed);
    expect(error).toMatchObject({ code: 'BUILD_FAILED', retryable: false });
    expect(await store.builds.get(payload.buildId)).toMatchObject({ status: 'failed', failureCode: 'BUILD_FAILED' });
  });

  it('leaves a transient failure to the queue until the last attempt', async () => {
    const source = repo('true');
    const payload = await accept(source);
    execFileSync('rm', ['-rf', source.dir]); // the fetch now fails, as a network error would
    await expect(runner.run(payload, { attempt: 1, maxAttempts: 2, shutdown: never })).rejects.toMatchObject({
      retryable: true,
    });
    expect((await store.builds.get(payload.buildId))?.status).toBe('running');
    await expect(runner.run(payload, { attempt: 2, maxAttempts: 2, shutdown: never })).rejects.toMatchObject({
      retryable: true,
    });
    expect((await store.builds.get(payload.buildId))?.status).toBe('failed');
  });

  it('stops a cancelled build and signs nothing', async () => {
    const payload = await accept(repo('mkdir -p out && sleep 30'));
    setTimeout(() => void store.builds.cancel(payload.buildId), 1500);
    expect(await runner.run(payload, { attempt: 1, maxAttempts: 3, shutdown: never })).toBe('cancelled');
    expect(await store.bundles.get(payload.buildId)).toBeUndefined();
  });

  it('hands the build back to the queue on shutdown', async () => {
    const payload = await accept(repo('mkdir -p out && sleep 30'));
    const shutdown = new AbortController();
    setTimeout(() => shutdown.abort(), 1500);
    await expect(runner.run(payload, { attempt: 1, maxAttempts: 3, shutdown: shutdown.signal })).rejects.toBeInstanceOf(
      BuildInterrupted,
    );
    expect(await store.builds.get(payload.buildId)).toMatchObject({ status: 'queued' });
  });
});
