import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { ProvenanceService } from '@secure-build/service';

import { RequireScope } from '../auth/require-scope.decorator';

@ApiTags('provenance')
@ApiBearerAuth()
@Controller()
export class ProvenanceController {
  constructor(private readonly provenance: ProvenanceService) {}

  @Get('builds/:id/provenance')
  @RequireScope('provenance:read')
  @ApiOperation({ summary: 'The Sigstore bundle of a succeeded build, byte for byte as signed' })
  @ApiProduces('application/vnd.dev.sigstore.bundle.v0.3+json')
  async byBuild(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const bundle = await this.provenance.byBuild(id);
    res.status(200).setHeader('Content-Type', bundle.mediaType);
    res.end(bundle.bundleJson);
  }

  @Get('attestations/:digest')
  @RequireScope('provenance:read')
  @ApiOperation({ summary: 'Every bundle whose subject has this digest (sha256:<hex>)' })
  bySubject(@Param('digest') digest: string) {
    return this.provenance.bySubject(digest);
  }
}
