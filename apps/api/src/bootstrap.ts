import { ConsoleLogger, INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';

import { DomainError } from '@secure-build/common';
import type { AppConfig } from '@secure-build/config';
import { armShutdownDeadline, assertRedisReachable, prepareDataDir } from '@secure-build/nest';
import { TokenAuth } from '@secure-build/service';

import { ApiModule } from './api.module';

/** Starts the API (and, with `withWorker`, an in-process worker); resolves once it listens. */
export async function startApi(config: AppConfig, options: { withWorker: boolean }): Promise<INestApplication> {
  await assertRedisReachable(config.redisUrl);
  await prepareDataDir(config.dataDir);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.register(config, options), {
    rawBody: true,
    bodyParser: false,
    logger: new ConsoleLogger({ json: true, logLevels: logLevels(config.logLevel) }),
  });
  // strict: false lets JSON primitives (null, 1, "x") reach validation, which names them.
  app.useBodyParser('json', { limit: '1mb', strict: false });
  // Nest turns body-parser's SyntaxError into a bare BadRequestException (losing its type), so name
  // the problem here, before it gets there.
  app.use(invalidJsonBody);
  app.setGlobalPrefix('v1', {
    exclude: [
      { path: 'healthz', method: RequestMethod.GET },
      { path: 'readyz', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.disable('x-powered-by');
  app.set('etag', false);
  setUpOpenApi(app);
  // useProcessExit: exit 0 after a clean shutdown instead of re-raising the signal.
  app.enableShutdownHooks([], { useProcessExit: true });
  armShutdownDeadline(config.shutdownTimeoutMs);

  const adminToken = await app.get(TokenAuth).bootstrapAdmin(config.adminToken);
  if (adminToken) {
    process.stdout.write(
      `\nNo admin token existed, so one was created. It is shown only this once; keep it safe:\n\n  ${adminToken}\n\n` +
        'Use it as `Authorization: Bearer <token>` (or SECURE_BUILD_TOKEN for the CLI) to create scoped tokens with POST /v1/tokens.\n\n',
    );
  }
  await app.listen(config.port, config.host);
  return app;
}

function invalidJsonBody(error: unknown, _req: Request, _res: Response, next: NextFunction): void {
  if ((error as { type?: unknown } | null)?.type === 'entity.parse.failed') {
    next(
      new DomainError('VALIDATION_FAILED', `body is not valid JSON: ${(error as Error).message}`, {
        details: { field: 'body' },
      }),
    );
    return;
  }
  next(error);
}

function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Secure Build API')
      .setDescription(
        'Builds pinned git commits inside TEEs into reproducible OCI images with SLSA v1 provenance bound to attestation evidence.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', useGlobalPrefix: false });
}

function logLevels(level: AppConfig['logLevel']): ('error' | 'warn' | 'log' | 'debug' | 'verbose')[] {
  const order = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  return order.slice(0, order.indexOf(level) + 1);
}
