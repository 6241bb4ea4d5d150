import { DomainError } from '@secure-build/common';

/** Errors the service layer raises; apps map each code to one HTTP status in one place. */
export type ServiceErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'CONFLICT'
  | 'NOT_READY'
  | 'UNSUPPORTED_MEDIA_TYPE';

/** A service-level failure with a stable code and a message naming the problem. */
export class ServiceError extends DomainError<ServiceErrorCode> {}

/** Shorthand for a 400-class validation error that names the offending field. */
export function invalidField(field: string, message: string): ServiceError {
  return new ServiceError('VALIDATION_FAILED', `${field}: ${message}`, { details: { field } });
}
