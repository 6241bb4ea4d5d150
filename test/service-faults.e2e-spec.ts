import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';

import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createThrowawayDatabase, ThrowawayDatabase } from '@secure-build/store';

import { createFixtureRepo, FixtureRepo } from './support/git-fixture';
import {
  Cleanup,
  createToken,
  deleteQueueKeys,
  killProcessesMatching,
  sleepingBuildScript,
  stopService,
  waitFor,
  waitForStatus,
} from './support/service-fixture';
import { api, serviceEnv, ServiceProcess, startService, waitForBuild } from './support/service-harness';

interface BuildView {
  id: string;
  status: string;
  attempts: number;
  manifestDigest: string | null;
  failure: { code: string; reason: string } | null;
}
interface Attestations {
  attestations: { buildId: string; bundle: unknown }[];
}

const jobIdOf = (buildId: string) => `build-run-${buildId}`;

/**
 * One API process on a throwaway PostgreSQL database; workers are started and killed per test.
 * Every test uses its own build (and usually its own recipe), so they do not depend on each other.
 */
class FaultBed {
  readonly cleanup = new Cleanup();
  db!: ThrowawayDatabase;
  env!: Record<string, string>;
  server!: ServiceProcess;
  queue!: Queue;
  sql!: Client;
  writer!: string;
  auditor!: string;
  repo!: FixtureRepo;
  readonly workers: ServiceProcess[] = [];

  async start(overrides: Record<string, string> = {}): Promise<void> {
    this.db = await createThrowawayDatabase();
    this.cleanup.add('drop database', () => this.db.drop());
    this.env = serviceEnv({ DATABASE_URL: this.db.url, ...overrides });
    this.cleanup.add('data dir', () => rmSync(this.env.SECURE_BUILD_DATA_DIR, { recursive: true, force: true }));
    this.cleanup.add('queue keys', () => deleteQueueKeys(this.env.SECURE_BUILD_QUEUE_PREFIX, this.env.REDIS_URL));
    this.queue = new Queue('builds', {
      connection: new Redis(this.env.REDIS_URL, { maxRetriesPerRequest: null }),
      prefix: this.env.SECURE_BUILD_QUEUE_PREFIX,
    });
    this.cleanup.add('close queue', async () => {
      await this.queue.close();
      (await this.queue.client).disconnect();
    });
    this.sql = new Client({ connectionString: this.db.url });
    await this.sql.connect();
    this.cleanup.add('close sql', () => this.sql.end());
    this.server = await startService('api', this.env);
    this.cleanup.add('stop api', () => stopService(this.server));
    this.writer = await createToken(this.server.url, 'writer', ['builds:write', 'builds:read']);
    this.auditor = await createToken(this.server.url, 'auditor', ['provenance:read']);
    this.repo = this.fixture();
  }

  fixture(extra?: Record<string, string>): FixtureRepo {
    const repo = createFixtureRepo(undefined, extra);
    this.cleanup.add(`rm ${repo.dir}`, () => rmSync(repo.dir, { recursive: true, force: true }));
    return repo;
  }

  /** A repository whose build prints `started <marker>` and then sleeps; its processes are killed on cleanup. */
  sleeper(seconds: number): { repo: FixtureRepo; marker: string } {
    const marker = `sbfault${Math.random().toString(36).slice(2, 10)}`;
    this.cleanup.add(`kill ${marker}`, () => killProcessesMatching(marker));
    return { repo: this.fixture({ 'build.sh': sleepingBuildScript(marker, seconds) }), marker };
  }

  async worker(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const worker = await startService('worker', { ...this.env, ...overrides });
    this.workers.push(worker);
    this.cleanup.add('stop worker', () => stopService(worker));
    return worker;
  }

  /** Adds a second build.run job with the same payload under another job id (an at-least-once redelivery). */
  async deliverDuplicate(id: string): Promise<Job> {
    const original = await this.queue.getJob(jobIdOf(id));
    expect(original?.data).toMatchObject({ buildId: id });
    return this.queue.add('build.run', original?.data, { jobId: `duplicate-${id}`, attempts: 3 });
  }

  /** Both deliveries completed without a failed attempt, and the build has exactly one provenance. */
  async expectDuplicateHarmless(id: string): Promise<void> {
    await this.expectExactlyOneProvenance(id);
    for (const jobId of [jobIdOf(id), `duplicate-${id}`]) {
      const finished = await waitFor(`job ${jobId} to finish`, async () => {
        // The state first: a job read before it finished would show no return value even once its
        // state says completed. A finished job's fields no longer change, so read it after.
        const state = await this.queue.getJobState(jobId);
        return state === 'completed' || state === 'failed'
          ? { fresh: await this.queue.getJob(jobId), state }
          : undefined;
      });
      expect(finished.state, finished.fresh?.failedReason).toBe('completed');
      expect(['succeeded', 'skipped']).toContain(finished.fresh?.returnvalue);
      // neither delivery disturbed the other: no failed attempt, no retry
      expect(finished.fresh?.attemptsMade, `job ${jobId}: ${finished.fresh?.stacktrace?.join('\n')}`).toBe(1);
    }
    expect(await this.log(id)).not.toContain('build failed');
    expect((await this.get(id)).status).toBe('succeeded');
    expect(await this.bundleCount(id)).toBe(1);
  }

  /** Everything the workers printed, for failure messages. */
  workerOutput(): string {
    return this.workers.map((w, i) => `--- worker ${i} (pid ${w.child.pid}) ---\n${w.output()}`).join('\n');
  }

  async submit(repo: FixtureRepo, commit = repo.commits[repo.commits.length - 1]): Promise<string> {
    const res = await api<{ id: string }>(this.server.url, 'POST', '/v1/builds', {
      token: this.writer,
      body: { repository: repo.dir, commit },
    });
    expect(res.status, res.text).toBe(202);
    return res.body.id;
  }

  get(id: string): Promise<BuildView> {
    return api<BuildView>(this.server.url, 'GET', `/v1/builds/${id}`, { token: this.writer }).then((r) => r.body);
  }

  async log(id: string): Promise<string> {
    return (await api<string>(this.server.url, 'GET', `/v1/builds/${id}/logs`, { token: this.writer })).text;
  }

  /** Waits until the build's sandbox has printed `started <marker>` (it is then sleeping). */
  waitForSandbox(id: string, marker: string): Promise<true> {
    return waitFor(`build ${id} to start its sandbox`, async () =>
      (await this.log(id)).includes(`started ${marker}`) ? true : undefined,
    );
  }

  async bundleCount(id: string): Promise<number> {
    const result = await this.sql.query<{ count: string }>(
      'SELECT count(*) AS count FROM bundles WHERE build_id = $1',
      [id],
    );
    return Number(result.rows[0].count);
  }

  /** Asserts the build succeeded with exactly one provenance bundle, via the API and the database. */
  async expectExactlyOneProvenance(id: string): Promise<BuildView> {
    const build = await waitForBuild(this.server.url, this.writer, id, 60_000).catch(async (error: Error) => {
      throw new Error(`${error.message}\n--- build log ---\n${await this.log(id)}\n${this.workerOutput()}`);
    });
    expect(build.status, JSON.stringify(build)).toBe('succeeded');
    const view = build as unknown as BuildView;
    expect(view.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const byDigest = await api<Attestations>(this.server.url, 'GET', `/v1/attestations/${view.manifestDigest}`, {
      token: this.auditor,
    });
    expect(byDigest.status, byDigest.text).toBe(200);
    expect(byDigest.body.attestations.filter((a) => a.buildId === id)).toHaveLength(1);
    const provenance = await api(this.server.url, 'GET', `/v1/builds/${id}/provenance`, { token: this.auditor });
    expect(provenance.status).toBe(200);
    expect(await this.bundleCount(id)).toBe(1);
    return view;
  }
}

describe('faults: worker killed, stopped, duplicated; terminal failures', () => {
  const bed = new FaultBed();

  beforeAll(() => bed.start());
  afterAll(() => bed.cleanup.run());

  it('a build survives a SIGKILLed worker: the stalled job is retried by a new worker, one provenance', async () => {
    const { repo, marker } = bed.sleeper(4);
    const first = await bed.worker();
    const id = await bed.submit(repo);
    await waitForStatus(bed.server.url, bed.writer, id, 'running');
    await bed.waitForSandbox(id, marker);

    await first.stop('SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    expect((await bed.get(id)).status).toBe('running'); // nobody told the store

    await bed.worker();
    const build = await bed.expectExactlyOneProvenance(id);
    const job = await bed.queue.getJob(jobIdOf(id));
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toBe('succeeded');
    expect(build.failure).toBeNull();
    // the log shows the build ran again after the worker was lost
    expect((await bed.log(id)).split(`started ${marker}`).length - 1).toBeGreaterThanOrEqual(2);
  });

  it('duplicate deliveries queued together run concurrently (concurrency 2): one build, one provenance each', async () => {
    await stopWorkers(bed);
    // several fast builds, each delivered twice: the two deliveries of a build start at the same
    // moment and race through every stage
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await bed.submit(bed.repo);
      await bed.deliverDuplicate(id);
      ids.push(id);
    }
    await bed.worker({ SECURE_BUILD_WORKER_CONCURRENCY: '2' });
    for (const id of ids) await bed.expectDuplicateHarmless(id);
  });

  it('a duplicate delivered while the first delivery is building: one build, one provenance', async () => {
    await stopWorkers(bed);
    const { repo, marker } = bed.sleeper(3);
    const id = await bed.submit(repo);
    await bed.worker({ SECURE_BUILD_WORKER_CONCURRENCY: '2' });
    await bed.waitForSandbox(id, marker);
    await bed.deliverDuplicate(id);
    await bed.expectDuplicateHarmless(id);
  });

  it('SIGTERM during a build: the worker exits 0, the job goes back to the queue unspent, a new worker completes it', async () => {
    await stopWorkers(bed);
    const { repo, marker } = bed.sleeper(6);
    const worker = await bed.worker();
    const id = await bed.submit(repo);
    await waitForStatus(bed.server.url, bed.writer, id, 'running');
    await bed.waitForSandbox(id, marker);
    const active = await bed.queue.getJob(jobIdOf(id));
    expect(await active?.getState()).toBe('active');
    const attemptsBefore = active?.attemptsMade ?? -1;

    const stoppedAt = Date.now();
    const code = await worker.stop('SIGTERM');
    expect(code, worker.output()).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(Number(bed.env.SECURE_BUILD_SHUTDOWN_TIMEOUT_MS));

    const job = await bed.queue.getJob(jobIdOf(id));
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(attemptsBefore);
    expect(job?.failedReason ?? '').toBe('');
    expect((await bed.get(id)).status).toBe('queued');
    expect(await bed.log(id)).toContain('build returned to the queue');

    await bed.worker();
    await bed.expectExactlyOneProvenance(id);
    expect(await bed.log(id)).toMatch(/returned to the queue[\s\S]*started [\s\S]*provenance stored/);
  });

  it('a build whose recipe exits non-zero fails for good: failure recorded on the build and on the BullMQ job', async () => {
    await stopWorkers(bed);
    await bed.worker();
    const failing = bed.fixture({ 'build.sh': '#!/bin/sh\necho "about to fail"\nexit 3\n' });
    const id = await bed.submit(failing);
    const build = await waitForBuild(bed.server.url, bed.writer, id);
    expect(build.status).toBe('failed');
    const view = build as unknown as BuildView;
    expect(view.failure?.code).toBe('BUILD_FAILED');
    expect(view.failure?.reason).toMatch(/exited with code 3\b/);
    expect(view.manifestDigest).toBeNull();

    const job = await waitFor('the job to be failed', async () => {
      const fresh = await bed.queue.getJob(jobIdOf(id));
      return (await fresh?.getState()) === 'failed' ? fresh : undefined;
    });
    expect(job.failedReason).toContain('BUILD_FAILED');
    expect(job.attemptsMade).toBe(1); // terminal: not retried
    expect(await bed.log(id)).toContain('about to fail');
    const provenance = await api(bed.server.url, 'GET', `/v1/builds/${id}/provenance`, { token: bed.auditor });
    expect(provenance.status).toBe(404);
    expect(await bed.bundleCount(id)).toBe(0);
  });
});

describe('faults: Redis loses every job (FLUSHALL)', () => {
  const bed = new FaultBed();
  let redis: PrivateRedis;

  // FLUSHALL on the shared Redis would also wipe the queues of every other suite and service using
  // it, so this suite runs its own throwaway redis-server and flushes that one.
  beforeAll(async () => {
    redis = await startPrivateRedis(bed.cleanup);
    await bed.start({ REDIS_URL: redis.url });
  });
  afterAll(() => bed.cleanup.run());

  it('the sweeper re-queues an accepted build whose job vanished, and it completes', async () => {
    const id = await bed.submit(bed.repo);
    expect(await bed.queue.getJob(jobIdOf(id))).toBeDefined();

    await redis.client.flushall();
    expect(await redis.client.dbsize()).toBe(0);
    expect((await bed.get(id)).status).toBe('queued');

    const requeued = await waitFor(
      'the sweeper to re-queue the build',
      async () => (await bed.queue.getJob(jobIdOf(id))) ?? undefined,
      20_000,
    );
    expect(requeued.data).toMatchObject({ buildId: id, commit: bed.repo.commits[0] });
    // The sweeper logs after it re-queues, and the API's stdout arrives through a pipe: wait for it.
    const logged = new RegExp(`sweeper requeued build[^\\n]*${id}`);
    await waitFor('the sweeper to log the re-queue', async () => logged.test(bed.server.output()) || undefined, 10_000);

    await bed.worker();
    await bed.expectExactlyOneProvenance(id);
  });
});

interface PrivateRedis {
  url: string;
  client: Redis;
}

/** Starts a throwaway redis-server (no persistence) on a free port; stopped on cleanup. */
async function startPrivateRedis(cleanup: Cleanup): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = cleanup.tempDir('sb-redis-');
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], {
    stdio: 'ignore',
  });
  const exited = new Promise((done) => server.on('exit', done));
  cleanup.add('stop private redis', async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  });
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: (n) => (n > 50 ? null : 100) });
  client.on('error', () => undefined); // refused until the server listens; waitFor retries
  cleanup.add('close private redis client', () => client.disconnect());
  await waitFor('the private redis-server', async () => ((await client.ping()) === 'PONG' ? true : undefined), 10_000);
  return { url, client };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => done(port));
    });
  });
}

/** Stops every worker the bed started so far (they are also registered for cleanup, which is then a no-op). */
async function stopWorkers(bed: FaultBed): Promise<void> {
  for (const pid of runningWorkers(bed)) process.kill(pid, 'SIGTERM');
  await waitFor('workers to exit', () => (runningWorkers(bed).length === 0 ? true : undefined), 20_000);
}

function runningWorkers(bed: FaultBed): number[] {
  return bed.workers
    .filter((w) => w.child.exitCode === null && w.child.signalCode === null)
    .map((w) => w.child.pid ?? 0);
}
