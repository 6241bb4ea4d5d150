#!/usr/bin/env node
'use strict';
// npm run bench:webhooks: signed GitHub push deliveries (POST /v1/webhooks/github/<project>: project
// lookup, secret opened, HMAC-SHA256 over the raw bytes, payload validation, a transactional
// delivery + build row, then a BullMQ job) against plain REST submissions (POST /v1/builds) of the
// same builds, at the same concurrency, in the same run, against the same API process (no worker, so
// every build stays queued). Prints one JSON line at the end. BENCH_REQUESTS, BENCH_CONCURRENCY,
// BENCH_ROUNDS (alternating slices of both sides) and BENCH_WARMUP override the defaults;
// BENCH_API_NODE_ARGS passes Node flags to the API (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof').
const { createHash, createHmac, randomBytes } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const { Queue } = require('bullmq');
const { Client } = require('pg');

const { startApi, withAdmin } = require('./support/api-process');
const { cpuSeconds, cpuSecondsOf, httpClient, measure, round, summarize } = require('./support/load');

const ROOT = resolve(__dirname, '..');
const { QueueName } = require(join(ROOT, 'dist/libs/queue/src/index.js'));

const REQUESTS = Number(process.env.BENCH_REQUESTS || 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const WARMUP = Number(process.env.BENCH_WARMUP || 500);
const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const ADMIN_TOKEN = `sbt_bench_${randomBytes(24).toString('hex')}`;
const WEBHOOK_SECRET = `whsec-bench-${randomBytes(16).toString('hex')}`;
const PROJECT = 'wallet-signer';
const REPOSITORY = 'https://git.example.com/org/wallet-signer.git';
const TARGETS = { rps: 1000, p99Ms: 50, ratio: 0.8 };

const log = (line) => process.stderr.write(`${line}\n`);
const sha1 = (text) => createHash('sha1').update(text).digest('hex');

/**
 * A GitHub push delivery as GitHub sends it: the JSON bytes, and the headers with the HMAC-SHA256 of
 * exactly those bytes. Distinct delivery id and commit per delivery. Prepared before timing starts, as
 * the REST requests are, so the client's signing work is not measured as server latency.
 */
function githubDelivery(runId, tag, i) {
  const after = sha1(`${runId}:hook:${tag}:${i}`);
  const body = Buffer.from(
    JSON.stringify({
      ref: 'refs/heads/main',
      before: sha1(`${runId}:parent:${tag}:${i}`),
      after,
      created: false,
      deleted: false,
      forced: false,
      compare: `https://git.example.com/org/wallet-signer/compare/${after}`,
      head_commit: {
        id: after,
        message: `change ${i}\n\nSigned-off-by: Dev <dev@example.com>`,
        timestamp: '2025-06-01T12:00:00Z',
        author: { name: 'Dev', email: 'dev@example.com', username: 'dev' },
        committer: { name: 'Dev', email: 'dev@example.com', username: 'dev' },
        added: [],
        removed: [],
        modified: ['src/main.rs'],
      },
      repository: {
        id: 4242,
        name: 'wallet-signer',
        full_name: 'org/wallet-signer',
        private: true,
        clone_url: REPOSITORY,
        ssh_url: 'git@git.example.com:org/wallet-signer.git',
        html_url: 'https://git.example.com/org/wallet-signer',
        default_branch: 'main',
      },
      pusher: { name: 'dev', email: 'dev@example.com' },
      sender: { login: 'dev', id: 7 },
    }),
  );
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/bench',
      'x-github-event': 'push',
      'x-github-delivery': `${runId}-${tag}-${i}`,
      'x-github-hook-id': '1',
      'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
    },
  };
}

function restSubmission(runId, tag, i) {
  return {
    body: Buffer.from(
      JSON.stringify({ repository: REPOSITORY, commit: sha1(`${runId}:rest:${tag}:${i}`), ref: 'refs/heads/main' }),
    ),
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  };
}

async function main() {
  const runId = randomBytes(4).toString('hex');
  const dbName = `sb_bench_${runId}`;
  const prefix = `sbbench-hooks-${runId}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  const cleanups = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error) => log(`cleanup: ${error.message}`));
    cleanups.length = 0;
  };

  try {
    await withAdmin((c) => c.query(`CREATE DATABASE ${dbName}`));
    cleanups.push(() => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const queue = new Queue(QueueName.Builds, { connection: REDIS, prefix });
    cleanups.push(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
    });

    const api = startApi({
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
      SECURE_BUILD_DATA_DIR: dataDir,
      SECURE_BUILD_QUEUE_PREFIX: prefix,
      SECURE_BUILD_ADMIN_TOKEN: ADMIN_TOKEN,
      SECURE_BUILD_SECRETS_KEY: randomBytes(32).toString('hex'),
      SECURE_BUILD_RATE_LIMIT_RPS: '1000000',
      SECURE_BUILD_RATE_LIMIT_BURST: '1000000',
      SECURE_BUILD_ALLOW_LOCAL_REPOS: 'false',
      LOG_LEVEL: 'warn',
    });
    cleanups.push(() => api.stop());
    const base = await api.ready;

    const client = httpClient(base, CONCURRENCY);
    cleanups.push(async () => client.close());
    const created = await client.post('/v1/projects', {
      body: Buffer.from(
        JSON.stringify({
          name: PROJECT,
          repository: REPOSITORY,
          allowedRefs: ['refs/heads/main'],
          webhook: { provider: 'github', secret: WEBHOOK_SECRET },
        }),
      ),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    if (created.status !== 201) throw new Error(`creating the project failed: ${created.status} ${created.text}`);
    const projectId = JSON.parse(created.text).id;
    log(
      `webhooks bench: API at ${base}; ${REQUESTS} requests per side, concurrency ${CONCURRENCY}, ` +
        `${ROUNDS} alternating rounds, warm-up ${WARMUP}`,
    );

    // Every request is prepared before timing: the forge signs, the CI client serialises.
    const prepare = (make, tag, count) => Array.from({ length: count }, (_, i) => make(runId, tag, i));
    const requests = {
      hookWarm: prepare(githubDelivery, 'warm', WARMUP),
      hookRun: prepare(githubDelivery, 'run', REQUESTS),
      restWarm: prepare(restSubmission, 'warm', WARMUP),
      restRun: prepare(restSubmission, 'run', REQUESTS),
    };

    const failures = { hook: 0, rest: 0, first: '' };
    const hookBuildIds = new Set();
    const deliver = (list) => async (i) => {
      const response = await client.post(`/v1/webhooks/github/${PROJECT}`, list[i]);
      const reply = response.status === 202 ? JSON.parse(response.text) : undefined;
      if (reply?.outcome !== 'build' || !reply.buildId) {
        failures.hook++;
        failures.first ||= `webhook ${response.status} ${response.text}`;
        return;
      }
      hookBuildIds.add(reply.buildId);
    };
    const submit = (list) => async (i) => {
      const response = await client.post('/v1/builds', list[i]);
      if (response.status !== 202) {
        failures.rest++;
        failures.first ||= `rest ${response.status} ${response.text}`;
      }
    };

    await measure(0, WARMUP, CONCURRENCY, deliver(requests.hookWarm));
    await measure(0, WARMUP, CONCURRENCY, submit(requests.restWarm));
    if (failures.hook + failures.rest > 0) throw new Error(`warm-up: requests were refused, e.g. ${failures.first}`);

    // Alternate slices of both so that a load change on the machine hits both sides alike.
    const hookSlices = [];
    const restSlices = [];
    const cpu = { hook: { api: 0, postgres: 0 }, rest: { api: 0, postgres: 0 } };
    const sample = () => ({ api: cpuSeconds(api.pid), postgres: cpuSecondsOf('postgres') });
    const account = (side, before) => {
      const now = sample();
      cpu[side].api += now.api - before.api;
      cpu[side].postgres += now.postgres - before.postgres;
    };
    for (let r = 0; r < ROUNDS; r++) {
      const from = Math.floor((r * REQUESTS) / ROUNDS);
      const to = Math.floor(((r + 1) * REQUESTS) / ROUNDS);
      let before = sample();
      restSlices.push(await measure(from, to, CONCURRENCY, submit(requests.restRun)));
      account('rest', before);
      before = sample();
      hookSlices.push(await measure(from, to, CONCURRENCY, deliver(requests.hookRun)));
      account('hook', before);
    }
    if (failures.hook + failures.rest > 0) {
      throw new Error(
        `${failures.hook} deliveries and ${failures.rest} submissions were refused, e.g. ${failures.first}`,
      );
    }
    const ours = summarize(hookSlices);
    const rest = summarize(restSlices);

    // Every accepted delivery created exactly one build (its own row, linked from its delivery) and one job.
    const expectedHooks = WARMUP + REQUESTS;
    const db = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` });
    await db.connect();
    const counts = (
      await db.query(
        `SELECT (SELECT count(*) FROM builds) AS builds,
                (SELECT count(*) FROM builds WHERE project_id = $1) AS project_builds,
                (SELECT count(*) FROM webhook_deliveries WHERE outcome = 'build') AS deliveries,
                (SELECT count(DISTINCT build_id) FROM webhook_deliveries WHERE build_id IS NOT NULL) AS linked`,
        [projectId],
      )
    ).rows[0];
    await db.end();
    const jobIds = new Set(
      (await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1)).map((job) => job.id),
    );
    const missingJobs = [...hookBuildIds].filter((id) => !jobIds.has(`build-run-${id}`)).length;
    const found = {
      hookBuildIds: hookBuildIds.size,
      builds: Number(counts.builds),
      projectBuilds: Number(counts.project_builds),
      deliveries: Number(counts.deliveries),
      linked: Number(counts.linked),
      jobs: jobIds.size,
      missingJobs,
    };
    const expected = {
      hookBuildIds: expectedHooks,
      builds: 2 * expectedHooks,
      projectBuilds: expectedHooks,
      deliveries: expectedHooks,
      linked: expectedHooks,
      jobs: 2 * expectedHooks,
      missingJobs: 0,
    };
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      throw new Error(
        `store or queue does not match the deliveries: expected ${JSON.stringify(expected)}, found ${JSON.stringify(found)}`,
      );
    }

    const ratio = ours.rps / rest.rps;
    const cpuMs = (seconds) => round((seconds * 1000) / REQUESTS, 3);
    log(
      `ours (webhooks): ${round(ours.rps)} deliveries/s p50 ${round(ours.p50Ms, 2)} ms p99 ${round(ours.p99Ms, 2)} ms, ` +
        `CPU ms each: API ${cpuMs(cpu.hook.api)}, PostgreSQL ${cpuMs(cpu.hook.postgres)}; ` +
        `REST: ${round(rest.rps)} req/s p50 ${round(rest.p50Ms, 2)} ms p99 ${round(rest.p99Ms, 2)} ms, ` +
        `CPU ms each: API ${cpuMs(cpu.rest.api)}, PostgreSQL ${cpuMs(cpu.rest.postgres)}; verified ${expectedHooks} deliveries → ` +
        `${expectedHooks} builds and jobs`,
    );
    const missed = [];
    if (ours.rps < TARGETS.rps) missed.push(`rps ${round(ours.rps)} < ${TARGETS.rps}`);
    if (ours.p99Ms > TARGETS.p99Ms) missed.push(`p99 ${round(ours.p99Ms, 2)} ms > ${TARGETS.p99Ms} ms`);
    if (ratio < TARGETS.ratio) missed.push(`ratio ${round(ratio, 3)} < ${TARGETS.ratio}`);
    if (missed.length > 0) log(`targets missed: ${missed.join(', ')}`);

    await cleanup();
    process.stdout.write(
      `${JSON.stringify({
        bench: 'webhooks',
        ratio: round(ratio, 3),
        oursRps: round(ours.rps),
        oursP50Ms: round(ours.p50Ms, 2),
        oursP99Ms: round(ours.p99Ms, 2),
        restRps: round(rest.rps),
        restP50Ms: round(rest.p50Ms, 2),
        restP99Ms: round(rest.p99Ms, 2),
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        targets: TARGETS,
      })}\n`,
    );
  } catch (error) {
    await cleanup();
    throw error;
  }
}

main().catch((error) => {
  process.stderr.write(`webhooks bench failed: ${error.stack || error.message}\n`);
  process.exit(1);
});
