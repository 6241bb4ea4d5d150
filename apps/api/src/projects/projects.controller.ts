import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';

import { createProjectSchema, ProjectsService, updateProjectSchema } from '@secure-build/service';

import { RequireScope } from '../auth/require-scope.decorator';
import { requireJson } from '../common/require-json';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('projects')
@RequireScope('admin')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a project; its webhook secret is write-only and sealed at rest' })
  @ApiBody({ schema: z.toJSONSchema(createProjectSchema, { io: 'input' }) as object })
  create(@Req() req: Request, @Body() body: unknown) {
    requireJson(req, 'project');
    return this.projects.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List projects' })
  list() {
    return this.projects.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'A project (without its webhook secret)' })
  get(@Param('name') name: string) {
    return this.projects.get(name);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Change some fields of a project (a new webhook secret replaces the old one)' })
  @ApiBody({ schema: z.toJSONSchema(updateProjectSchema, { io: 'input' }) as object })
  update(@Req() req: Request, @Param('name') name: string, @Body() body: unknown) {
    requireJson(req, 'project change');
    return this.projects.update(name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a project (its builds stay)' })
  async delete(@Param('name') name: string): Promise<void> {
    await this.projects.delete(name);
  }
}
