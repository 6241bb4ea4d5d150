import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createThrowawayDatabase, ThrowawayDatabase } from '@secure-build/store';

import { runCli } from './support/cli';
import { createFixtureRepo, FixtureRepo } from './support/git-fixture';
import {
  Cleanup,
  createToken,
  deleteQueueKeys,
  killProcessesMatching,
  processesMatching,
  readEventStream,
  sleepingBuildScript,
  stopService,
  waitFor,
  waitForStatus,
  writePolicy,
} from './support/service-fixture';
import {
  api,
  serviceEnv,
  ServiceProcess,
  startService,
  TEST_ADMIN_TOKEN,
  waitForBuild,
} from './support/service-harness';

const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

interface Accepted {
  id: string;
  status: string;
  links: { self: string; logs: string; provenance: string; cancel: string };
}
interface BuildView extends Accepted {
  repository: string;
  commit: string;
  manifestDigest: string | null;
  failure: { code: string; reason: string } | null;
  stages: { stage: string; attempt: number; startedAt: string; durationMs: number | null }[];
}
interface Attestations {
  digest: string;
  attestations: { buildId: string; createdAt: string; bundle: unknown }[];
}
interface Builder {
  keySha256: string;
  teeType: string;
  workerId: string;
  evidence: { quote: string; collateral: unknown; format: string };
  firstSeen: string;
  lastSeen: string;
}

function fixtureRepo(cleanup: Cleanup, extra?: Record<string, string>): FixtureRepo {
  const repo = createFixtureRepo(undefined, extra);
  cleanup.add(`rm ${repo.dir}`, () => rmSync(repo.dir, { recursive: true, force: true }));
  return repo;
}

/** Starts services on `env` and registers their shutdown, the queue keys and the data dir for cleanup. */
async function start(cleanup: Cleanup, kind: 'api' | 'worker' | 'combined', env: Record<string, string>) {
  const service = await startService(kind, env);
  cleanup.add(`stop ${kind}`, () => stopService(service));
  return service;
}

function registerEnv(cleanup: Cleanup, env: Record<string, string>): void {
  cleanup.add('data dir', () => rmSync(env.SECURE_BUILD_DATA_DIR, { recursive: true, force: true }));
  cleanup.add('queue keys', () => deleteQueueKeys(env.SECURE_BUILD_QUEUE_PREFIX));
}

describe('build service: API and worker processes on Redis + PostgreSQL', () => {
  const cleanup = new Cleanup();
  let db: ThrowawayDatabase;
  let server: ServiceProcess;
  let url: string;
  let writer: string;
  let auditor: string;
  let repo: FixtureRepo;
  let work: string;
  let build: BuildView;

  beforeAll(async () => {
    db = await createThrowawayDatabase();
    cleanup.add('drop database', () => db.drop());
    const env = serviceEnv({ DATABASE_URL: db.url });
    registerEnv(cleanup, env);
    server = await start(cleanup, 'api', env);
    url = server.url;
    await start(cleanup, 'worker', env);
    repo = fixtureRepo(cleanup);
    work = cleanup.tempDir();
  });

  afterAll(() => cleanup.run());

  it('lets the admin create scoped tokens, and enforces their scopes', async () => {
    writer = await createToken(url, 'ci-writer', ['builds:write', 'builds:read']);
    auditor = await createToken(url, 'auditor', ['provenance:read']);
    expect(writer).not.toBe(auditor);

    const forbidden = await api<{ code: string }>(url, 'POST', '/v1/tokens', {
      token: writer,
      body: { name: 'escalate', scopes: ['admin'] },
    });
    expect(forbidden.status).toBe(403);
    const auditorSubmits = await api<{ code: string }>(url, 'POST', '/v1/builds', {
      token: auditor,
      body: { repository: repo.dir, commit: repo.commits[0] },
    });
    expect(auditorSubmits.status).toBe(403);
    expect(auditorSubmits.body.code).toBe('FORBIDDEN');
    const anonymous = await api(url, 'GET', '/v1/builds');
    expect(anonymous.status).toBe(401);
  });

  it('accepts a build, runs it on the worker and records stage timings and the image digest', async () => {
    const accepted = await api<Accepted>(url, 'POST', '/v1/builds', {
      token: writer,
      body: { repository: repo.dir, commit: repo.commits[0], ref: 'refs/heads/main' },
    });
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'queued' });
    expect(accepted.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(accepted.body.links.self).toMatch(new RegExp(`/v1/builds/${accepted.body.id}$`));
    expect(accepted.body.links).toMatchObject({
      logs: `${accepted.body.links.self}/logs`,
      provenance: `${accepted.body.links.self}/provenance`,
      cancel: `${accepted.body.links.self}/cancel`,
    });
    expect(accepted.headers.get('location')).toBe(accepted.body.links.self);

    build = (await waitForBuild(url, writer, accepted.body.id)) as unknown as BuildView;
    expect(build.status, JSON.stringify(build.failure)).toBe('succeeded');
    expect(build.failure).toBeNull();
    expect(build.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(build.repository).toBe(`file://${repo.dir}`);
    expect(build.commit).toBe(repo.commits[0]);
    const stages = build.stages.map((s) => s.stage);
    expect(stages).toEqual(expect.arrayContaining(['source', 'build']));
    for (const stage of build.stages) {
      expect(stage.durationMs, `stage ${stage.stage} has no duration`).toEqual(expect.any(Number));
      expect(stage.attempt).toBe(1);
    }
  });

  it('serves the build log as text, as server-sent events, and through `logs --follow`', async () => {
    const text = await api<string>(url, 'GET', `/v1/builds/${build.id}/logs`, { token: writer });
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text.text).toContain('built wallet-signer');

    const sse = await readEventStream(`${url}/v1/builds/${build.id}/logs`, writer);
    expect(sse.status).toBe(200);
    expect(sse.contentType).toMatch(/^text\/event-stream/);
    const logs = sse.events.filter((e) => e.event === 'log');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((e) => /^\d+$/.test(e.id ?? ''))).toBe(true);
    expect(logs.map((e) => e.data).join('')).toContain('built wallet-signer');
    const last = sse.events[sse.events.length - 1];
    expect(last.event).toBe('end');
    expect(JSON.parse(last.data)).toMatchObject({ status: 'succeeded', failure: null });

    const follow = await runCli(['logs', build.id, '--follow', '--server', url], { SECURE_BUILD_TOKEN: writer });
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toContain('built wallet-signer');
  });

  it('serves the signed provenance to auditors, by build and by image digest, and it verifies', async () => {
    const provenance = await api<unknown>(url, 'GET', `/v1/builds/${build.id}/provenance`, { token: auditor });
    expect(provenance.status).toBe(200);
    expect(provenance.headers.get('content-type')).toBe(BUNDLE_MEDIA_TYPE);
    const bundle = JSON.parse(provenance.text) as { mediaType: string };
    expect(bundle.mediaType).toBe(BUNDLE_MEDIA_TYPE);

    const writerReads = await api(url, 'GET', `/v1/builds/${build.id}/provenance`, { token: writer });
    expect(writerReads.status).toBe(403);

    const hex = (build.manifestDigest ?? '').slice('sha256:'.length);
    const byDigest = await api<Attestations>(url, 'GET', `/v1/attestations/sha256:${hex}`, { token: auditor });
    expect(byDigest.status).toBe(200);
    expect(byDigest.body.digest).toBe(`sha256:${hex}`);
    expect(byDigest.body.attestations).toHaveLength(1);
    expect(byDigest.body.attestations[0].buildId).toBe(build.id);
    expect(byDigest.body.attestations[0].bundle).toEqual(bundle);

    const policy = writePolicy(work, `file://${repo.dir}`);
    const verify = await runCli(['verify', '--server', url, '--build', build.id, '--policy', policy], {
      SECURE_BUILD_TOKEN: auditor,
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('VERIFIED');

    const out = join(work, 'downloaded.sigstore.json');
    const download = await runCli(['provenance', build.id, '-o', out, '--server', url], {
      SECURE_BUILD_TOKEN: auditor,
    });
    expect(download.code, download.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(Buffer.from(provenance.text, 'utf8'));

    const offline = await runCli(['verify', out, '--policy', policy, '--image-digest', build.manifestDigest ?? '']);
    expect(offline.code, offline.stdout + offline.stderr).toBe(0);
  });

  it('lists the worker key with its TEE evidence under /v1/builders', async () => {
    const builders = await api<{ items: Builder[] }>(url, 'GET', '/v1/builders', { token: auditor });
    expect(builders.status).toBe(200);
    expect(builders.body.items).toHaveLength(1);
    const [builder] = builders.body.items;
    expect(builder.teeType).toBe('tdx-sim');
    expect(builder.keySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(builder.evidence.quote, 'base64').length).toBeGreaterThan(100);
    expect(builder.evidence.quote).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(builder.evidence.collateral).toBeTruthy();
    expect(Date.parse(builder.firstSeen)).not.toBeNaN();
    expect(Date.parse(builder.lastSeen)).toBeGreaterThanOrEqual(Date.parse(builder.firstSeen));

    // the key that signed the provenance is this builder's key
    const provenance = await api<{ verificationMaterial: { publicKey: { hint: string } } }>(
      url,
      'GET',
      `/v1/builds/${build.id}/provenance`,
      { token: auditor },
    );
    expect(provenance.body.verificationMaterial.publicKey.hint).toBe(builder.keySha256);
  });

  it('submits through the CLI and waits for the result (`submit --wait`)', async () => {
    const run = await runCli(
      ['submit', '--server', url, '--repo', repo.dir, '--commit', repo.commits[0], '--wait', '--json'],
      { SECURE_BUILD_TOKEN: writer },
    );
    expect(run.code, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout) as BuildView;
    expect(shown.status).toBe('succeeded');
    expect(shown.id).not.toBe(build.id);
    // the build is reproducible: a second build of the same commit yields the same image
    expect(shown.manifestDigest).toBe(build.manifestDigest);
  });

  it('lists builds newest first with repository, status and commit filters and cursor paging', async () => {
    const other = fixtureRepo(cleanup, { 'NOTES.md': 'list test\n' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api<Accepted>(url, 'POST', '/v1/builds', {
        token: writer,
        body: { repository: other.dir, commit: other.commits[1] },
      });
      expect(res.status, res.text).toBe(202);
      ids.push(res.body.id);
    }
    const newestFirst = [...ids].reverse();
    const repository = `file://${other.dir}`;
    const q = (params: Record<string, string>) => `/v1/builds?${new URLSearchParams(params).toString()}`;
    type Page = { items: BuildView[]; nextCursor: string | null };

    const all = await api<Page>(url, 'GET', q({ repository }), { token: writer });
    expect(all.status, all.text).toBe(200);
    expect(all.body.items.map((b) => b.id)).toEqual(newestFirst);
    expect(all.body.nextCursor).toBeNull();

    const first = await api<Page>(url, 'GET', q({ repository, limit: '2' }), { token: writer });
    expect(first.body.items.map((b) => b.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api<Page>(url, 'GET', q({ repository, limit: '2', cursor: first.body.nextCursor ?? '' }), {
      token: writer,
    });
    expect(second.body.items.map((b) => b.id)).toEqual(newestFirst.slice(2));
    expect(second.body.nextCursor).toBeNull();

    const byCommit = await api<Page>(url, 'GET', q({ commit: other.commits[1] }), { token: writer });
    expect(byCommit.body.items.map((b) => b.id)).toEqual(newestFirst);
    const firstRepoBuilds = await api<Page>(url, 'GET', q({ commit: repo.commits[0] }), { token: writer });
    expect(firstRepoBuilds.body.items.length).toBeGreaterThanOrEqual(2);
    expect(firstRepoBuilds.body.items.every((b) => b.commit === repo.commits[0])).toBe(true);

    for (const id of ids) expect((await waitForBuild(url, writer, id)).status).toBe('succeeded');
    const succeeded = await api<Page>(url, 'GET', q({ repository, status: 'succeeded' }), { token: writer });
    expect(succeeded.body.items.map((b) => b.id)).toEqual(newestFirst);
    const failed = await api<Page>(url, 'GET', q({ repository, status: 'failed' }), { token: writer });
    expect(failed.body).toEqual({ items: [], nextCursor: null });

    const badStatus = await api<{ code: string }>(url, 'GET', q({ status: 'done' }), { token: writer });
    expect(badStatus.status).toBe(400);
    const badCursor = await api<{ code: string }>(url, 'GET', q({ cursor: 'not-a-cursor' }), { token: writer });
    expect(badCursor.status).toBe(400);
  });

  it('honours Idempotency-Key: same body → same build, different body → 422', async () => {
    const key = `idem-${Date.now()}`;
    const body = { repository: repo.dir, commit: repo.commits[0], ref: 'refs/heads/main' };
    const headers = { 'idempotency-key': key };
    const first = await api<Accepted>(url, 'POST', '/v1/builds', { token: writer, body, headers });
    expect(first.status, first.text).toBe(202);
    const again = await api<Accepted>(url, 'POST', '/v1/builds', { token: writer, body, headers });
    expect(again.status, again.text).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('location')).toBe(first.body.links.self);

    const conflict = await api<{ code: string }>(url, 'POST', '/v1/builds', {
      token: writer,
      body: { ...body, ref: 'refs/heads/other' },
      headers,
    });
    expect(conflict.status, conflict.text).toBe(422);
    expect(conflict.body.code).toBe('IDEMPOTENCY_CONFLICT');

    // the key namespace is per token: another writer may use the same key for its own build
    const otherWriter = await createToken(url, 'ci-writer-2', ['builds:write', 'builds:read']);
    const separate = await api<Accepted>(url, 'POST', '/v1/builds', { token: otherWriter, body, headers });
    expect(separate.status, separate.text).toBe(202);
    expect(separate.body.id).not.toBe(first.body.id);

    for (const id of [first.body.id, separate.body.id]) {
      const done = await waitForBuild(url, writer, id);
      expect(done.status).toBe('succeeded');
    }
  });

  it('cancels a running build: status cancelled, no provenance, the sandboxed process is killed', async () => {
    const marker = `sbcancel${Date.now().toString(36)}`;
    cleanup.add('kill cancel-test sandboxes', () => killProcessesMatching(marker));
    const sleeper = fixtureRepo(cleanup, { 'build.sh': sleepingBuildScript(marker, 120) });
    const accepted = await api<Accepted>(url, 'POST', '/v1/builds', {
      token: writer,
      body: { repository: sleeper.dir, commit: sleeper.commits[1] },
    });
    expect(accepted.status, accepted.text).toBe(202);
    const id = accepted.body.id;
    await waitForStatus(url, writer, id, 'running');
    await waitFor(`sandboxed process ${marker}`, () => (processesMatching(marker).length > 0 ? true : undefined));
    // a live log stream opened now follows the build until it ends
    const live = readEventStream(`${url}/v1/builds/${id}/logs`, writer);

    const cancelled = await api<BuildView>(url, 'POST', `/v1/builds/${id}/cancel`, { token: writer });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');

    await waitFor(
      'the sandboxed process to be killed',
      () => (processesMatching(marker).length === 0 ? true : undefined),
      10_000,
    );
    const log = await waitFor('the worker to log the cancellation', async () => {
      const res = await api<string>(url, 'GET', `/v1/builds/${id}/logs`, { token: writer });
      return res.text.includes('build cancelled') ? res.text : undefined;
    });
    expect(log).toContain(`started ${marker}`);
    const stream = await live;
    expect(
      stream.events
        .filter((e) => e.event === 'log')
        .map((e) => e.data)
        .join(''),
    ).toContain(`started ${marker}`);
    const end = stream.events[stream.events.length - 1];
    expect(end.event).toBe('end');
    expect(JSON.parse(end.data)).toMatchObject({ status: 'cancelled' });
    expect(log).not.toContain('provenance stored');

    const after = await api<BuildView>(url, 'GET', `/v1/builds/${id}`, { token: writer });
    expect(after.body.status).toBe('cancelled');
    expect(after.body.manifestDigest).toBeNull();
    const provenance = await api<{ code: string }>(url, 'GET', `/v1/builds/${id}/provenance`, { token: auditor });
    expect(provenance.status).toBe(404);
    const again = await api<{ code: string }>(url, 'POST', `/v1/builds/${id}/cancel`, { token: writer });
    expect(again.status).toBe(409);

    // the worker is free again: a queued build after the cancelled one still runs
    const next = await api<Accepted>(url, 'POST', '/v1/builds', {
      token: writer,
      body: { repository: repo.dir, commit: repo.commits[0] },
    });
    expect((await waitForBuild(url, writer, next.body.id)).status).toBe('succeeded');
  });
});

describe('build service: one process with embedded PGlite (npm start)', () => {
  const cleanup = new Cleanup();

  afterAll(() => cleanup.run());

  it('builds and serves verifiable provenance without PostgreSQL', async () => {
    const env = serviceEnv();
    expect(env.DATABASE_URL).toBeUndefined();
    registerEnv(cleanup, env);
    const service = await start(cleanup, 'combined', env);
    expect(service.output()).toContain('with an in-process worker');
    const repo = fixtureRepo(cleanup);
    const work = cleanup.tempDir();
    const writer = await createToken(service.url, 'writer', ['builds:write', 'builds:read']);
    const auditor = await createToken(service.url, 'auditor', ['provenance:read']);

    const accepted = await api<Accepted>(service.url, 'POST', '/v1/builds', {
      token: writer,
      body: { repository: repo.dir, commit: repo.commits[0] },
    });
    expect(accepted.status, accepted.text).toBe(202);
    const done = (await waitForBuild(service.url, writer, accepted.body.id)) as unknown as BuildView;
    expect(done.status, JSON.stringify(done.failure)).toBe('succeeded');

    const policy = writePolicy(work, `file://${repo.dir}`);
    const verify = await runCli(['verify', '--server', service.url, '--build', done.id, '--policy', policy], {
      SECURE_BUILD_TOKEN: auditor,
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('VERIFIED');

    const builders = await api<{ items: Builder[] }>(service.url, 'GET', '/v1/builders', { token: TEST_ADMIN_TOKEN });
    expect(builders.body.items.map((b) => b.teeType)).toEqual(['tdx-sim']);
  });
});
