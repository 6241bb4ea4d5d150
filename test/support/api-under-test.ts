import { rmSync } from 'node:fs';

import { Queue } from 'bullmq';
import { Client } from 'pg';

import { createThrowawayDatabase, type ThrowawayDatabase } from '@secure-build/store';

import { serviceEnv, startService, type ServiceProcess } from './service-harness';
import { deleteQueueKeys } from './service-fixture';

/** One API process (no worker) on its own throwaway PostgreSQL database and queue prefix. */
export interface ApiUnderTest {
  service: ServiceProcess;
  env: Record<string, string>;
  database: ThrowawayDatabase;
  /** a direct connection to the database, for "nothing was stored" checks */
  db: Client;
  /** the service's build queue, for "nothing was queued" checks */
  queue: Queue;
  /** Another API process on the same database (e.g. with other rate limits); closed by `close`. */
  startSibling(overrides: Record<string, string>): Promise<{ service: ServiceProcess; queue: Queue }>;
  /** Stops every process and removes the database, queue keys and data dirs. */
  close(): Promise<void>;
}

const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const FAST = { SECURE_BUILD_RATE_LIMIT_RPS: '100000', SECURE_BUILD_RATE_LIMIT_BURST: '100000' };

/** Starts an API for HTTP-contract tests; `overrides` go into its environment (local repos off by default). */
export async function startApiUnderTest(overrides: Record<string, string> = {}): Promise<ApiUnderTest> {
  const database = await createThrowawayDatabase();
  const started: { service: ServiceProcess; queue: Queue; env: Record<string, string> }[] = [];
  const start = async (extra: Record<string, string>) => {
    const env = serviceEnv({ DATABASE_URL: database.url, SECURE_BUILD_ALLOW_LOCAL_REPOS: 'false', ...FAST, ...extra });
    const entry = {
      env,
      service: await startService('api', env),
      queue: new Queue('builds', { connection: REDIS, prefix: env.SECURE_BUILD_QUEUE_PREFIX }),
    };
    started.push(entry);
    return entry;
  };
  const db = new Client({ connectionString: database.url });
  try {
    const main = await start(overrides);
    await db.connect();
    return {
      ...main,
      database,
      db,
      startSibling: (extra) => start(extra),
      close: async () => {
        for (const { service, queue, env } of started) {
          await service.stop();
          await queue.close();
          await deleteQueueKeys(env.SECURE_BUILD_QUEUE_PREFIX);
          rmSync(env.SECURE_BUILD_DATA_DIR, { recursive: true, force: true });
        }
        await db.end().catch(() => undefined);
        await database.drop();
      },
    };
  } catch (error) {
    for (const { service } of started) await service.stop();
    await database.drop();
    throw error;
  }
}
