import { DomainError } from '@secure-build/common';

/** Machine-readable reasons a sandboxed build is refused or fails. */
export type SandboxErrorCode =
  | 'SANDBOX_UNAVAILABLE'
  | 'SANDBOX_FAILED'
  | 'INVALID_OPTIONS'
  | 'COPY_FAILED'
  | 'BUILD_FAILED'
  | 'BUILD_TIMEOUT'
  | 'BUILD_CANCELLED';

/** Error raised by the sandbox lib. */
export class SandboxError extends DomainError<SandboxErrorCode> {}
