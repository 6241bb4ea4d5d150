import { DomainError } from '@secure-build/common';

/**
 * Stable codes of every error this lib raises on purpose. The CLI maps them to exit codes, so treat
 * the strings as persistent identifiers (do not rename without a migration).
 */
export type DeployErrorCode =
  'IMAGE_REFERENCE_INVALID' | 'TARGET_UNSUPPORTED' | 'TEE_UNSUPPORTED' | 'NAME_INVALID' | 'PROVENANCE_INVALID';

/**
 * Raised when a deployment snippet is refused. `details.field` names the input at fault; messages
 * quote offending values JSON-escaped, so control characters never reach a terminal raw.
 */
export class DeployError extends DomainError<DeployErrorCode> {}

/** Shorthand for a DeployError whose details name the offending input field. */
export function deployError(code: DeployErrorCode, field: string, message: string): DeployError {
  return new DeployError(code, message, { details: { field } });
}

/** `value` JSON-quoted and cut to a readable length, for error messages. */
export function quote(value: string, max = 120): string {
  const cut = [...value];
  return JSON.stringify(cut.length > max ? `${cut.slice(0, max).join('')}…` : value);
}
