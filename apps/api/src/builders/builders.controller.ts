import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';

import { BuildersService } from '@secure-build/service';

import { RequireScope } from '../auth/require-scope.decorator';

@ApiTags('builders')
@ApiBearerAuth()
@Controller('builders')
export class BuildersController {
  constructor(private readonly builders: BuildersService) {}

  @Get()
  @RequireScope('provenance:read', 'builds:read')
  @ApiOperation({ summary: 'Worker signing keys with their TEE evidence, TEE type, first and last seen' })
  async list() {
    return { items: await this.builders.list() };
  }
}
