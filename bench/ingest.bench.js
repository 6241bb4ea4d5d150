#!/usr/bin/env node
'use strict';
// npm run bench:ingest: build submissions through the API (POST /v1/builds: auth, validation, a
// committed PostgreSQL row, then a BullMQ job) against raw BullMQ `queue.add` of the same payloads, at
// the same concurrency, in the same run. No worker runs, so every build stays queued. A third side,
// the NestJS floor (bench/support/nest-floor.js: an Express-adapter app whose route only answers
// 202), shows the most any NestJS Express endpoint reaches on this machine. Prints one JSON line at
// the end. BENCH_REQUESTS, BENCH_CONCURRENCY, BENCH_ROUNDS (alternating slices of both sides)
// and BENCH_WARMUP override the defaults.
const { createHash, randomBytes, randomUUID } = require('node:crypto');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const { Queue } = require('bullmq');
const { Client } = require('pg');

const { startApi, withAdmin } = require('./support/api-process');
const { cpuSeconds, cpuSecondsOf, httpClient, measure, round, summarize } = require('./support/load');

const ROOT = resolve(__dirname, '..');
const { QueueName, BuildJobName, runBuildJobOptions } = require(join(ROOT, 'dist/libs/queue/src/index.js'));

const REQUESTS = Number(process.env.BENCH_REQUESTS || 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const WARMUP = Number(process.env.BENCH_WARMUP || 1000);
// e.g. BENCH_API_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the API process
const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const ADMIN_TOKEN = `sbt_bench_${randomBytes(24).toString('hex')}`;
const REPOSITORY = 'https://git.example.com/org/wallet-signer.git';
const TARGETS = { rps: 1000, p99Ms: 50, ratio: 0.25 };

const log = (line) => process.stderr.write(`${line}\n`);
const sha1 = (text) => createHash('sha1').update(text).digest('hex');

/** Busy and idle CPU seconds of the whole machine, from /proc/stat (NaN elsewhere). */
function machineCpu() {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { busy: (user + nice + system + irq + softirq + steal) / 100, idle: (idle + iowait) / 100 };
  } catch {
    return { busy: NaN, idle: NaN };
  }
}

/** A REST submission as prepared bytes and headers (admin token). */
function jsonRequest(value) {
  const body = Buffer.from(JSON.stringify(value));
  return { body, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } };
}

async function main() {
  const runId = randomBytes(4).toString('hex');
  const dbName = `sb_bench_${runId}`;
  const ourPrefix = `sbbench-api-${runId}`;
  const basePrefix = `sbbench-raw-${runId}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  const cleanups = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error) => log(`cleanup: ${error.message}`));
  };

  try {
    await withAdmin((c) => c.query(`CREATE DATABASE ${dbName}`));
    cleanups.push(() => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

    const ourQueue = new Queue(QueueName.Builds, { connection: REDIS, prefix: ourPrefix });
    cleanups.push(async () => {
      await ourQueue.obliterate({ force: true });
      await ourQueue.close();
    });
    const baseQueue = new Queue(QueueName.Builds, { connection: REDIS, prefix: basePrefix });
    cleanups.push(async () => {
      await baseQueue.obliterate({ force: true });
      await baseQueue.close();
    });

    const api = startApi({
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
      SECURE_BUILD_DATA_DIR: dataDir,
      SECURE_BUILD_QUEUE_PREFIX: ourPrefix,
      SECURE_BUILD_ADMIN_TOKEN: ADMIN_TOKEN,
      SECURE_BUILD_SECRETS_KEY: randomBytes(32).toString('hex'),
      SECURE_BUILD_RATE_LIMIT_RPS: '1000000',
      SECURE_BUILD_RATE_LIMIT_BURST: '1000000',
      SECURE_BUILD_ALLOW_LOCAL_REPOS: 'false',
      LOG_LEVEL: 'warn',
    });
    cleanups.push(() => api.stop());
    const floor = startApi({ PORT: '0', HOST: '127.0.0.1' }, join(__dirname, 'support/nest-floor.js'));
    cleanups.push(() => floor.stop());
    const [base, floorBase] = await Promise.all([api.ready, floor.ready]);
    log(`ingest bench: API at ${base}; ${REQUESTS} requests, concurrency ${CONCURRENCY}, warm-up ${WARMUP}`);

    const client = httpClient(base, CONCURRENCY);
    cleanups.push(async () => client.close());
    const floorClient = httpClient(floorBase, CONCURRENCY);
    cleanups.push(async () => floorClient.close());
    const body = (tag, i) => ({
      repository: REPOSITORY,
      commit: sha1(`${runId}:${tag}:${i}`),
      ref: 'refs/heads/main',
      imageName: 'registry.example.com/org/wallet-signer:1.0',
    });
    let rejected = 0;
    let firstRejection = '';
    const submit = (tag) => async (i) => {
      const response = await client.post('/v1/builds', jsonRequest(body(tag, i)));
      if (response.status !== 202) {
        rejected++;
        firstRejection ||= `${response.status} ${response.text}`;
      }
    };
    const answer = (tag) => async (i) => {
      const response = await floorClient.post('/v1/builds', jsonRequest(body(tag, i)));
      if (response.status !== 202) throw new Error(`the NestJS floor answered ${response.status} ${response.text}`);
    };
    // The baseline adds the very job the API would add, with the API's job options, minus HTTP,
    // auth, validation and the database row.
    const add = (tag) => async (i) => {
      const buildId = randomUUID();
      const payload = { buildId, ...body(tag, i), recipePath: 'securebuild.yaml' };
      await baseQueue.add(BuildJobName.Run, payload, runBuildJobOptions(buildId, 3));
    };

    await measure(0, WARMUP, CONCURRENCY, submit('warm'));
    await measure(0, WARMUP, CONCURRENCY, add('warm'));
    await measure(0, WARMUP, CONCURRENCY, answer('warm'));
    if (rejected > 0) throw new Error(`warm-up: ${rejected} submissions were not accepted, e.g. ${firstRejection}`);

    // Alternate slices of all sides so that a load change on the machine hits them alike.
    const baselineSlices = [];
    const ourSlices = [];
    const floorSlices = [];
    const cpuUsed = { api: 0, client: 0, postgres: 0, redis: 0, machineBusy: 0, machineIdle: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const from = Math.floor((r * REQUESTS) / ROUNDS);
      const to = Math.floor(((r + 1) * REQUESTS) / ROUNDS);
      baselineSlices.push(await measure(from, to, CONCURRENCY, add('run')));
      const before = {
        api: cpuSeconds(api.pid),
        client: process.cpuUsage(),
        postgres: cpuSecondsOf('postgres'),
        redis: cpuSecondsOf('redis-server'),
        machine: machineCpu(),
      };
      ourSlices.push(await measure(from, to, CONCURRENCY, submit('run')));
      const client = process.cpuUsage(before.client);
      const machine = machineCpu();
      cpuUsed.api += cpuSeconds(api.pid) - before.api;
      cpuUsed.client += (client.user + client.system) / 1e6;
      cpuUsed.postgres += cpuSecondsOf('postgres') - before.postgres;
      cpuUsed.redis += cpuSecondsOf('redis-server') - before.redis;
      cpuUsed.machineBusy += machine.busy - before.machine.busy;
      cpuUsed.machineIdle += machine.idle - before.machine.idle;
      floorSlices.push(await measure(from, to, CONCURRENCY, answer('run')));
    }
    const baseline = summarize(baselineSlices);
    const ours = summarize(ourSlices);
    const nestFloor = summarize(floorSlices);
    const perRequestMs = (seconds) => round((seconds * 1000) / REQUESTS, 3);
    const cpu = {
      api: perRequestMs(cpuUsed.api),
      client: perRequestMs(cpuUsed.client),
      postgres: perRequestMs(cpuUsed.postgres),
      redis: perRequestMs(cpuUsed.redis),
      machine: perRequestMs(cpuUsed.machineBusy),
      machineIdlePct: round((100 * cpuUsed.machineIdle) / (cpuUsed.machineIdle + cpuUsed.machineBusy)),
    };
    if (rejected > 0)
      throw new Error(`${rejected} of ${REQUESTS} submissions were not accepted, e.g. ${firstRejection}`);

    // Every accepted build is a committed row and a queued job.
    const db = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` });
    await db.connect();
    const rows = Number((await db.query('SELECT count(*) AS n FROM builds')).rows[0].n);
    await db.end();
    const jobs = await ourQueue.getJobCountByTypes('waiting', 'prioritized', 'delayed');
    const expected = REQUESTS + WARMUP;
    if (rows !== expected || jobs !== expected) {
      throw new Error(`expected ${expected} builds and jobs, found ${rows} rows and ${jobs} jobs`);
    }

    const ratio = ours.rps / baseline.rps;
    log(
      `ours: ${round(ours.rps)} req/s p50 ${round(ours.p50Ms, 2)} ms p99 ${round(ours.p99Ms, 2)} ms; ` +
        `baseline: ${round(baseline.rps)} adds/s p50 ${round(baseline.p50Ms, 2)} ms p99 ${round(baseline.p99Ms, 2)} ms; ` +
        `CPU ms per request: API ${cpu.api}, bench client ${cpu.client}, PostgreSQL ${cpu.postgres}, ` +
        `Redis ${cpu.redis}, whole machine ${cpu.machine} ` +
        `(${cpu.machineIdlePct}% idle); NestJS floor: ${round(nestFloor.rps)} req/s ` +
        `(ratio ${round(nestFloor.rps / baseline.rps, 3)}) p99 ${round(nestFloor.p99Ms, 2)} ms`,
    );
    const missed = [];
    if (ours.rps < TARGETS.rps) missed.push(`rps ${round(ours.rps)} < ${TARGETS.rps}`);
    if (ours.p99Ms > TARGETS.p99Ms) missed.push(`p99 ${round(ours.p99Ms, 2)} ms > ${TARGETS.p99Ms} ms`);
    if (ratio < TARGETS.ratio) missed.push(`ratio ${round(ratio, 3)} < ${TARGETS.ratio}`);
    if (missed.length > 0) log(`targets missed: ${missed.join(', ')}`);

    await cleanup();
    process.stdout.write(
      `${JSON.stringify({
        bench: 'ingest',
        ratio: round(ratio, 3),
        oursRps: round(ours.rps),
        oursP50Ms: round(ours.p50Ms, 2),
        oursP99Ms: round(ours.p99Ms, 2),
        baselineRps: round(baseline.rps),
        baselineP50Ms: round(baseline.p50Ms, 2),
        baselineP99Ms: round(baseline.p99Ms, 2),
        nestFloorRps: round(nestFloor.rps),
        nestFloorRatio: round(nestFloor.rps / baseline.rps, 3),
        nestFloorP99Ms: round(nestFloor.p99Ms, 2),
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
  process.stderr.write(`ingest bench failed: ${error.stack || error.message}\n`);
  process.exit(1);
});
