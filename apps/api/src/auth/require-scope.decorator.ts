import { SetMetadata } from '@nestjs/common';

import type { Scope } from '@secure-build/store';

export const REQUIRED_SCOPES = 'secure-build:required-scopes';

/** Marks a route as needing a bearer token with (any of) these scopes; admin tokens pass every check. */
export const RequireScope = (...scopes: Scope[]) => SetMetadata(REQUIRED_SCOPES, scopes);
