import type { Request } from 'express';

import { ServiceError } from '@secure-build/service';

/** Refuses a request body that is not declared as JSON (415), before anything reads it as JSON. */
export function requireJson(req: Request, what: string): void {
  if (!req.is('application/json')) {
    throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', `send the ${what} as application/json`);
  }
}
