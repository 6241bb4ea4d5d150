'use strict';
// Shared by the service benches: a maintenance connection to the local PostgreSQL and an API process
// started from dist/ (or the NestJS floor) that resolves its URL once it listens.
const { spawn } = require('node:child_process');
const { join, resolve } = require('node:path');

const { Client } = require('pg');

const ROOT = resolve(__dirname, '../..');
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const API_NODE_ARGS = (process.env.BENCH_API_NODE_ARGS || '').split(' ').filter(Boolean);

/** Runs `fn` with a client on the maintenance database (to create and drop throwaway databases). */
async function withAdmin(fn) {
  const client = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Starts `dist/apps/api/src/main.js` (or another `script` that prints "listening on <url>") with `env`;
 * `ready` resolves to its base URL.
 */
function startApi(env, script = join(ROOT, 'dist/apps/api/src/main.js')) {
  const child = spawn(process.execPath, [...API_NODE_ARGS, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((done) => child.on('exit', (code, signal) => done(code ?? signal)));
  const ready = new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`API did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = / listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match[1].replace('[::1]', '127.0.0.1'));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`API exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    ready,
    pid: child.pid,
    output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

module.exports = { ADMIN_URL, ROOT, startApi, withAdmin };
