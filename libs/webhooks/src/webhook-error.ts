import { DomainError } from '@secure-build/common';

/**
 * Stable codes of every error this lib raises on purpose. The API maps them to HTTP statuses, so
 * treat the strings as persistent identifiers (do not rename without a migration).
 */
export type WebhookErrorCode =
  | 'UNKNOWN_PROVIDER'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_INVALID'
  | 'DELIVERY_ID_MISSING'
  | 'DELIVERY_ID_INVALID'
  | 'EVENT_MISSING'
  | 'BODY_NOT_JSON'
  | 'PAYLOAD_INVALID'
  | 'TIMESTAMP_OUT_OF_RANGE';

/**
 * Error raised when a webhook delivery is refused. `details.field` names the header or payload
 * field at fault; messages never contain the secret or a received signature.
 */
export class WebhookError extends DomainError<WebhookErrorCode> {}

/** Shorthand for a WebhookError whose details name one header or payload field. */
export function webhookError(code: WebhookErrorCode, message: string, field?: string, cause?: unknown): WebhookError {
  return new WebhookError(code, message, { cause, details: field === undefined ? undefined : { field } });
}
