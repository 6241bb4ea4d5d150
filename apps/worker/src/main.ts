import 'reflect-metadata';

import { ConsoleLogger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { AppConfig, loadConfig } from '@secure-build/config';
import {
  armShutdownDeadline,
  assertRedisReachable,
  CoreModule,
  prepareDataDir,
  WorkerModule,
} from '@secure-build/nest';

/** A worker process (the future TEE guest): no HTTP, just the build queue. */
async function startWorker(config: AppConfig): Promise<void> {
  await assertRedisReachable(config.redisUrl);
  await prepareDataDir(config.dataDir);
  @Module({ imports: [CoreModule.forRoot(config), WorkerModule.register(config)] })
  class WorkerAppModule {}
  const app = await NestFactory.createApplicationContext(WorkerAppModule, {
    logger: new ConsoleLogger({ json: true }),
  });
  // useProcessExit: exit 0 after a clean shutdown; by default Nest re-raises the signal, so a
  // supervisor sees "killed by SIGTERM" instead of a clean exit.
  app.enableShutdownHooks([], { useProcessExit: true });
  armShutdownDeadline(config.shutdownTimeoutMs);
  await app.init();
  process.stdout.write(
    `secure-build worker ${config.worker.id} consuming builds (concurrency ${config.worker.concurrency})\n`,
  );
}

startWorker(loadConfig(process.env)).catch((error: unknown) => {
  process.stderr.write(`secure-build worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
