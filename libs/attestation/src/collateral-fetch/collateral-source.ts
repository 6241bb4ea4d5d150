import { DomainError } from '@secure-build/common';

import type { TdxCollateral } from '../collateral/collateral.types';

/** Which PCK CA issued the platform's PCK certificate (TDX platforms use 'platform'). */
export type PckCa = 'platform' | 'processor';

/** Port for obtaining DCAP collateral for one FMSPC; the caller verifies it (verifyTdxQuote). */
export interface CollateralSource {
  /** Fetches tcbInfo, QE identity, CRLs and issuer chains for `fmspc` (12 hex digits) and PCK CA `ca`. */
  fetch(fmspc: string, ca: PckCa): Promise<TdxCollateral>;
}

/** Raised when collateral cannot be fetched or is not in Intel's wire format; `details` name URL and status. */
export class CollateralFetchError extends DomainError<'COLLATERAL_FETCH'> {
  constructor(message: string, details?: Record<string, unknown>, cause?: unknown) {
    super('COLLATERAL_FETCH', message, { details, cause });
  }
}
