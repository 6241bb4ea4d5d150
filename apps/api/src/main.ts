import 'reflect-metadata';

import { loadConfig } from '@secure-build/config';

import { startApi } from './bootstrap';

// `--with-worker` (npm start) runs a build worker in the same process, with embedded defaults.
const withWorker = process.argv.includes('--with-worker');

startApi(loadConfig(process.env), { withWorker }).then(
  async (app) =>
    process.stdout.write(
      `secure-build API listening on ${await app.getUrl()}${withWorker ? ' (with an in-process worker)' : ''}\n`,
    ),
  (error: unknown) => {
    process.stderr.write(`secure-build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
