import { DomainError } from '@secure-build/common';

export type BuildErrorCode =
  | 'NOT_REPRODUCIBLE'
  | 'BASE_IMAGE_UNSUPPORTED'
  | 'BASE_IMAGE_INVALID'
  | 'OUTPUT_DIR_NOT_EMPTY'
  | 'EVIDENCE_UNAVAILABLE'
  | 'BUILD_CANCELLED'
  | 'INVALID_OPTIONS'
  | 'PUSH_REFERENCE_INVALID';

/** Pipeline-level failures that are not owned by one lib (source, sandbox, oci raise their own). */
export class BuildError extends DomainError<BuildErrorCode> {}
