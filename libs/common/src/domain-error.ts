/**
 * Base class for every error the libs raise on purpose. The `code` is stable and machine-readable
 * (apps map it to exit codes and HTTP statuses in one place); the message is for humans.
 */
export class DomainError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options?.details;
  }

  /** Structured context (field names, offending values) safe to show to the caller. */
  readonly details?: Record<string, unknown>;
}

/** True when `error` is a DomainError, optionally with one of the given codes. */
export function isDomainError(error: unknown, ...codes: string[]): error is DomainError {
  return error instanceof DomainError && (codes.length === 0 || codes.includes(error.code));
}
