import { DomainError } from '@secure-build/common';

/** Machine-readable reasons a store operation is refused. */
export type StoreErrorCode =
  | 'IDEMPOTENCY_CONFLICT'
  | 'INVALID_CURSOR'
  | 'INVALID_LIMIT'
  | 'INVALID_SCOPE'
  | 'INVALID_TOKEN'
  | 'NOT_FOUND'
  | 'DATABASE_UNAVAILABLE'
  | 'CONFLICT';

/** Error raised by the store lib on purpose; SQL driver errors are wrapped only where a caller can act on them. */
export class StoreError extends DomainError<StoreErrorCode> {}
