import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';

import type { AppConfig } from '@secure-build/config';
import { APP_CONFIG, BUILD_QUEUE, CoreModule, loadSecretsKey, STORE, WorkerModule } from '@secure-build/nest';
import {
  BuildersService,
  BuildQueue,
  BuildsService,
  ProjectsService,
  ProvenanceService,
  SecretBox,
  ServiceMetrics,
  TokenAuth,
  TokenBucketLimiter,
  WebhooksService,
} from '@secure-build/service';
import type { Store } from '@secure-build/store';

import { SE_ATTESTATION, SeAttestationController } from './attestation/se-attestation.controller';
import { createSeAttestationService } from './attestation/se-attestation.provider';
import { TokenGuard } from './auth/token.guard';
import { BuildersController } from './builders/builders.controller';
import { BuildsController } from './builds/builds.controller';
import { DomainErrorFilter } from './errors/domain-error.filter';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ProvenanceController } from './provenance/provenance.controller';
import { SweeperService } from './sweeper/sweeper.service';
import { ProjectsController } from './projects/projects.controller';
import { TokensController } from './tokens/tokens.controller';
import { WebhooksController } from './webhooks/webhooks.controller';

class MetricsWiring implements OnModuleInit {
  constructor(
    private readonly metrics: ServiceMetrics,
    @Inject(BUILD_QUEUE) private readonly queue: BuildQueue,
    @Inject(STORE) private readonly store: Store,
  ) {}

  onModuleInit(): void {
    this.metrics.observeQueueAndStore(this.queue, this.store);
  }
}

/** The HTTP API; with `withWorker` it also runs a build worker in the same process (npm start). */
@Module({})
export class ApiModule {
  static register(config: AppConfig, options: { withWorker: boolean }): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot(config),
        TerminusModule,
        ...(options.withWorker ? [WorkerModule.register(config)] : []),
      ],
      controllers: [
        BuildsController,
        ProvenanceController,
        BuildersController,
        TokensController,
        ProjectsController,
        WebhooksController,
        SeAttestationController,
        HealthController,
        MetricsController,
      ],
      providers: [
        {
          provide: BuildsService,
          useFactory: (store: Store, queue: BuildQueue) =>
            new BuildsService(store, queue, { publicUrl: config.publicUrl, allowLocalRepos: config.allowLocalRepos }),
          inject: [STORE, BUILD_QUEUE],
        },
        { provide: ProvenanceService, useFactory: (store: Store) => new ProvenanceService(store), inject: [STORE] },
        { provide: BuildersService, useFactory: (store: Store) => new BuildersService(store), inject: [STORE] },
        {
          provide: TokenAuth,
          useFactory: (store: Store, c: AppConfig) =>
            new TokenAuth(store, new TokenBucketLimiter(c.rateLimit.perSecond, c.rateLimit.burst)),
          inject: [STORE, APP_CONFIG],
        },
        { provide: SecretBox, useFactory: () => loadSecretsKey(config).then((key) => new SecretBox(key)) },
        {
          provide: ProjectsService,
          useFactory: (store: Store, secrets: SecretBox) =>
            new ProjectsService(store, secrets, {
              publicUrl: config.publicUrl,
              allowLocalRepos: config.allowLocalRepos,
            }),
          inject: [STORE, SecretBox],
        },
        {
          provide: WebhooksService,
          useFactory: (store: Store, queue: BuildQueue, secrets: SecretBox) =>
            new WebhooksService(store, queue, secrets),
          inject: [STORE, BUILD_QUEUE, SecretBox],
        },
        {
          provide: SE_ATTESTATION,
          useFactory: (store: Store, secrets: SecretBox) => createSeAttestationService(config, store, secrets),
          inject: [STORE, SecretBox],
        },
        { provide: APP_GUARD, useClass: TokenGuard },
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        SweeperService,
        MetricsWiring,
      ],
    };
  }
}
