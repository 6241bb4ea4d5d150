import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';

import { ServiceError, WebhooksService } from '@secure-build/service';

type RawBodyRequest = Request & { rawBody?: Buffer };

/** Forge webhooks. Authenticated by the delivery's signature (or GitLab token), not by bearer tokens. */
@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post(':provider/:project')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Receive a push (or ping) from GitHub, GitLab, Gitea or Forgejo; a verified push starts a pinned build',
  })
  async receive(
    @Param('provider') provider: string,
    @Param('project') project: string,
    @Req() req: RawBodyRequest,
    @Res() res: Response,
  ): Promise<void> {
    if (!req.is('application/json')) {
      throw new ServiceError(
        'UNSUPPORTED_MEDIA_TYPE',
        'webhook deliveries must be application/json (set the webhook content type to JSON)',
      );
    }
    const reply = await this.webhooks.receive(provider, project, req.headers, req.rawBody);
    res.status(reply.status).json(reply.body);
  }
}
