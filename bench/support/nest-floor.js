'use strict';
// The framework floor of the ingest bench: a bare NestJS application on the Express adapter, with the
// same body parsing as the API (JSON, raw body kept), whose one route answers POST /v1/builds with 202
// and a fixed body. No auth, validation, database or queue: no NestJS Express endpoint does less, so
// its rate is the most the API could reach on this machine.
require('reflect-metadata');
const { Controller, HttpCode, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

class FloorController {
  accept() {
    return { id: '00000000-0000-4000-8000-000000000000', status: 'queued', links: {} };
  }
}
const accept = Object.getOwnPropertyDescriptor(FloorController.prototype, 'accept');
Post('builds')(FloorController.prototype, 'accept', accept);
HttpCode(202)(FloorController.prototype, 'accept', accept);
Controller('v1')(FloorController);

class FloorModule {}
Module({ controllers: [FloorController] })(FloorModule);

async function main() {
  const app = await NestFactory.create(FloorModule, { logger: false, rawBody: true, bodyParser: false });
  app.useBodyParser('json', { limit: '1mb', strict: false });
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1');
  process.stdout.write(`NestJS floor listening on ${await app.getUrl()}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error.message}\n`);
  process.exit(1);
});
