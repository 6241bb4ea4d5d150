import { DomainError } from '@secure-build/common';

/**
 * Stable codes of every error this lib raises on purpose. Apps map them to exit codes and HTTP
 * statuses, so treat the strings as persistent identifiers (do not rename without a migration).
 */
export type RegistryErrorCode =
  | 'REFERENCE_INVALID'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_AUTH_FAILED'
  | 'REGISTRY_DENIED'
  | 'MANIFEST_UNKNOWN'
  | 'BLOB_UNKNOWN'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'MANIFEST_INVALID'
  | 'REGISTRY_PROTOCOL'
  | 'PLATFORM_NOT_FOUND'
  | 'REFERRERS_INDEX_INVALID';

/**
 * Error raised by the registry client. Messages name the method, registry, path, HTTP status and the
 * registry's own error codes; they never contain credentials, tokens, Authorization headers or URL
 * queries. `details.retryable` is true for failures worth retrying later (network, 5xx, 429).
 */
export class RegistryError extends DomainError<RegistryErrorCode> {}

/** True when a RegistryError marks itself as transient (network failure, 5xx, 429, timeout). */
export function isRetryableRegistryError(error: unknown): error is RegistryError {
  return error instanceof RegistryError && error.details?.retryable === true;
}
