import { join } from 'node:path';

import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';

import type { AppConfig } from '@secure-build/config';
import { QueueName } from '@secure-build/queue';
import { BullBuildQueue, ServiceMetrics } from '@secure-build/service';
import { openStore, Store } from '@secure-build/store';

import { APP_CONFIG, BUILD_QUEUE, STORE } from './injection-tokens';
import { redisConnection } from './redis';

class StoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(STORE) private readonly store: Store) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** Config, store, queue and metrics, shared by the API and the worker (one instance per process). */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        BullModule.forRoot({ connection: redisConnection(config.redisUrl), prefix: config.queue.prefix }),
        BullModule.registerQueue({ name: QueueName.Builds }),
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: STORE,
          useFactory: () => openStore({ databaseUrl: config.databaseUrl, dataDir: join(config.dataDir, 'pglite') }),
        },
        {
          provide: BUILD_QUEUE,
          useFactory: (queue: Queue) => new BullBuildQueue(queue, config.queue.attempts),
          inject: [getQueueToken(QueueName.Builds)],
        },
        { provide: ServiceMetrics, useValue: new ServiceMetrics() },
        StoreLifecycle,
      ],
      exports: [APP_CONFIG, STORE, BUILD_QUEUE, ServiceMetrics, BullModule],
    };
  }
}
