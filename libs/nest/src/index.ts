export { CoreModule } from './core.module';
export { APP_CONFIG, BUILD_QUEUE, STORE } from './injection-tokens';
export { assertRedisReachable, redisConnection } from './redis';
export { BuildProcessor } from './worker/build.processor';
export { WorkerIdentityService } from './worker/worker-identity.service';
export { WorkerModule } from './worker/worker.module';
export { prepareDataDir } from './data-dir';
export { armShutdownDeadline } from './shutdown-deadline';
export { loadSecretsKey } from './secrets-key';
