import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { Principal, ServiceError, TokenAuth } from '@secure-build/service';
import type { Scope } from '@secure-build/store';

import { REQUIRED_SCOPES } from './require-scope.decorator';

/** Request carrying the authenticated principal. */
export type AuthenticatedRequest = Request & { principal?: Principal };

/** Enforces @RequireScope on every route that declares one (global guard). */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: TokenAuth,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scopes = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!scopes) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    let lastError: unknown;
    for (const scope of scopes) {
      try {
        request.principal = await this.auth.authorize(request.headers.authorization, scope);
        return true;
      } catch (error) {
        if (!(error instanceof ServiceError) || error.code !== 'FORBIDDEN') throw error;
        lastError = error;
      }
    }
    throw scopes.length > 1
      ? new ServiceError('FORBIDDEN', `this token needs one of the scopes ${scopes.join(', ')}`)
      : lastError;
  }
}
