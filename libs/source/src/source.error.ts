import { DomainError } from '@secure-build/common';

/** Machine-readable reasons a source checkout is refused or fails. */
export type SourceErrorCode =
  | 'INVALID_URL'
  | 'LOCAL_REPO_NOT_ALLOWED'
  | 'INVALID_COMMIT'
  | 'INVALID_DESTINATION'
  | 'FETCH_FAILED'
  | 'COMMIT_MISMATCH'
  | 'SUBMODULE_INVALID'
  | 'GIT_TIMEOUT'
  | 'GIT_FAILED'
  | 'INVALID_REF'
  | 'INVALID_CHECKOUT'
  | 'NOT_REACHABLE'
  | 'REF_NOT_FOUND'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_UNTRUSTED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_POLICY_INVALID';

/** Error raised by the source lib; messages never contain credentials. */
export class SourceError extends DomainError<SourceErrorCode> {}
