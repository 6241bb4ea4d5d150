import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';

import { BuildsService, ServiceMetrics, submitBuildBodySchema } from '@secure-build/service';

import { RequireScope } from '../auth/require-scope.decorator';
import { requireJson } from '../common/require-json';
import type { AuthenticatedRequest } from '../auth/token.guard';
import { streamLogs } from './log-stream';

@ApiTags('builds')
@ApiBearerAuth()
@Controller('builds')
export class BuildsController {
  constructor(
    private readonly builds: BuildsService,
    private readonly metrics: ServiceMetrics,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScope('builds:write')
  @ApiOperation({ summary: 'Accept a build of a pinned commit' })
  @ApiBody({ schema: z.toJSONSchema(submitBuildBodySchema) as object })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'the same key returns the same build' })
  @ApiResponse({ status: 202, description: '{id, status, links}' })
  async submit(
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: Response,
    @Body() body: unknown,
    @Headers('idempotency-key') key?: string,
  ) {
    requireJson(req, 'build request');
    const { build, created } = await this.builds.submit(body, { tokenId: req.principal?.tokenId }, key);
    if (created) this.metrics.accepted.inc();
    else res.status(200);
    res.setHeader('Location', build.links.self);
    return { id: build.id, status: build.status, links: build.links };
  }

  @Get()
  @RequireScope('builds:read')
  @ApiOperation({ summary: 'List builds, newest first (cursor paging)' })
  @ApiQuery({ name: 'repository', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] })
  @ApiQuery({ name: 'commit', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  list(@Query() query: Record<string, string>) {
    return this.builds.list(query);
  }

  @Get(':id')
  @RequireScope('builds:read')
  @ApiOperation({ summary: 'A build with stage timings, digests and failure reason' })
  get(@Param('id') id: string) {
    return this.builds.get(id);
  }

  @Get(':id/logs')
  @RequireScope('builds:read')
  @ApiOperation({ summary: 'Build log as text; with Accept: text/event-stream it streams live until the build ends' })
  @ApiProduces('text/plain', 'text/event-stream')
  async logs(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if ((req.headers.accept ?? '').includes('text/event-stream')) {
      await this.builds.logs(id, 0); // 404 before the stream starts
      await streamLogs(this.builds, id, req, res);
      return;
    }
    let after = 0;
    let text = '';
    for (;;) {
      const page = await this.builds.logs(id, after);
      for (const c of page.chunks) text += c.chunk;
      if (page.chunks.length === 0) break;
      after = page.chunks[page.chunks.length - 1].id;
    }
    res.status(200).type('text/plain; charset=utf-8').send(text);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireScope('builds:write')
  @ApiOperation({ summary: 'Cancel a queued or running build' })
  cancel(@Param('id') id: string) {
    return this.builds.cancel(id);
  }
}
