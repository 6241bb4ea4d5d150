import { Processor } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';

import type { AppConfig } from '@secure-build/config';
import { QueueName } from '@secure-build/queue';

import { BuildProcessor } from './build.processor';
import { WorkerIdentityService } from './worker-identity.service';

/** The build worker: BullMQ processor plus the TEE identity it signs with. Needs CoreModule. */
@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    Processor(QueueName.Builds, {
      autorun: false,
      concurrency: config.worker.concurrency,
      lockDuration: config.worker.lockDurationMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: Math.max(0, config.queue.attempts - 1),
    })(BuildProcessor);
    return { module: WorkerModule, providers: [WorkerIdentityService, BuildProcessor] };
  }
}
