import { randomBytes } from 'node:crypto';

import { Queue } from 'bullmq';

import { openStore, Store } from '@secure-build/store';

import { BullBuildQueue } from '../queue/build-queue';

/** Redis the service tests use (as CI provides). */
export const TEST_REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

/** A real BullMQ queue on the local Redis, isolated by a random prefix. */
export interface QueueFixture {
  bullQueue: Queue;
  queue: BullBuildQueue;
  prefix: string;
  close(): Promise<void>;
}

/** Opens a fresh queue; obliterated on close. */
export function openQueueFixture(attempts = 3): QueueFixture {
  const prefix = `sbunit-${randomBytes(4).toString('hex')}`;
  const bullQueue = new Queue('builds', { connection: TEST_REDIS, prefix });
  return {
    bullQueue,
    prefix,
    queue: new BullBuildQueue(bullQueue, attempts),
    close: async () => {
      await bullQueue.obliterate({ force: true }).catch(() => undefined);
      await bullQueue.close();
    },
  };
}

/** A real store: in-memory PGlite (one per suite: it takes a second or two to start). */
export function openTestStore(): Promise<Store> {
  return openStore({});
}
