import { Body, Controller, Delete, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';

import { TokenAuth } from '@secure-build/service';

import { RequireScope } from '../auth/require-scope.decorator';
import { requireJson } from '../common/require-json';

@ApiTags('tokens')
@ApiBearerAuth()
@Controller('tokens')
export class TokensController {
  constructor(private readonly auth: TokenAuth) {}

  @Post()
  @HttpCode(201)
  @RequireScope('admin')
  @ApiOperation({ summary: 'Create an API token {name, scopes}; the token is shown only in this response' })
  create(@Req() req: Request, @Body() body: unknown) {
    requireJson(req, 'token request');
    return this.auth.create(body);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('admin')
  @ApiOperation({ summary: 'Revoke a token' })
  async revoke(@Param('id') id: string): Promise<void> {
    await this.auth.revoke(id);
  }
}
