import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';

import { invalidField, SeAttestationService, ServiceError } from '@secure-build/service';

import { RequireScope } from '../auth/require-scope.decorator';
import { requireJson } from '../common/require-json';

/** Injection token: the SE attestation service, or null when the deployment has no SE workers. */
export const SE_ATTESTATION = Symbol('SE_ATTESTATION');

/** IBM SE attestation service: SE evidence is only verifiable by the request's creator, so this API creates and checks it. */
@ApiTags('attestation')
@Controller('attestation/se')
export class SeAttestationController {
  constructor(@Inject(SE_ATTESTATION) private readonly service: SeAttestationService | null) {}

  @Get('verifier-key')
  @ApiOperation({ summary: 'PEM of the key that signs SE attestation results (pin it in policies: se.verifierKeys)' })
  verifierKey() {
    return { pem: this.configured().verifierKeyPem };
  }

  @Post('requests')
  @HttpCode(201)
  @ApiBearerAuth()
  @RequireScope('attestation:write')
  @ApiOperation({ summary: 'A fresh, single-use attestation request for `pvattest perform`' })
  async request() {
    const { id, requestFile } = await this.configured().challenge();
    return { id, request: requestFile.toString('base64') };
  }

  @Post('requests/:id/response')
  @ApiBearerAuth()
  @RequireScope('attestation:write')
  @ApiOperation({
    summary: "Verify the guest's answer (user data = binding of its signing key) and return the signed result",
  })
  async response(@Req() req: Request, @Param('id') id: string, @Body() body: unknown) {
    requireJson(req, 'attestation response');
    const { response, signingKeySpki, workerRef } = (body ?? {}) as {
      response?: unknown;
      signingKeySpki?: unknown;
      workerRef?: unknown;
    };
    if (typeof response !== 'string' || response.length === 0)
      throw invalidField('response', 'must be the base64 pvattest response file');
    if (typeof signingKeySpki !== 'string' || signingKeySpki.length === 0)
      throw invalidField('signingKeySpki', 'must be the base64 DER public key of the worker');
    if (workerRef !== undefined && typeof workerRef !== 'string') throw invalidField('workerRef', 'must be a string');
    const result = await this.configured().complete(id, Buffer.from(response, 'base64'), {
      signingKeySpkiDer: Buffer.from(signingKeySpki, 'base64'),
      ...(workerRef ? { workerRef } : {}),
    });
    return { result };
  }

  private configured(): SeAttestationService {
    if (!this.service)
      throw new ServiceError(
        'NOT_FOUND',
        'IBM SE attestation is not configured on this server (SECURE_BUILD_SE_HOST_KEYS, SECURE_BUILD_SE_HEADER, SECURE_BUILD_SE_VERIFIER_KEY)',
      );
    return this.service;
  }
}
