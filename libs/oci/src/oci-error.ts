import { DomainError } from '@secure-build/common';

/**
 * Stable codes of every error this lib raises on purpose. Apps map them to exit codes and HTTP
 * statuses, so treat the strings as persistent identifiers (do not rename without a migration).
 */
export type OciErrorCode =
  | 'OUTPUT_MISSING'
  | 'PATH_INVALID'
  | 'PATH_CONFLICT'
  | 'UNSUPPORTED_FILE_TYPE'
  | 'SOURCE_CHANGED'
  | 'INVALID_INPUT'
  | 'BLOB_MISSING'
  | 'DIGEST_MISMATCH'
  | 'LAYOUT_INVALID'
  | 'UNSUPPORTED_MEDIA_TYPE';

/** Error raised by layer writing, layout assembly and layout reading; the message names the path. */
export class OciError extends DomainError<OciErrorCode> {}
