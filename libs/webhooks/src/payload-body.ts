import { webhookError } from './webhook-error';

/** Largest body accepted, as GitHub caps webhook payloads at 25 MB. */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the raw body as a UTF-8 JSON object. Form-encoded bodies (`payload=…`, a forge option),
 * invalid UTF-8, malformed or truncated JSON and non-object JSON are BODY_NOT_JSON.
 */
export function parseJsonObjectBody(rawBody: Buffer): Record<string, unknown> {
  if (!(rawBody instanceof Uint8Array)) {
    throw new TypeError('rawBody must be the raw request bytes (create the Nest app with rawBody: true)');
  }
  if (rawBody.length > MAX_WEBHOOK_BODY_BYTES) {
    throw webhookError(
      'PAYLOAD_INVALID',
      `body is ${rawBody.length} bytes, more than the ${MAX_WEBHOOK_BODY_BYTES}-byte limit`,
      '(body)',
    );
  }
  let text: string;
  try {
    text = utf8.decode(rawBody);
  } catch (cause) {
    throw webhookError('BODY_NOT_JSON', 'body is not valid UTF-8, so it cannot be JSON', '(body)', cause);
  }
  if (/^\s*payload=/.test(text)) {
    throw webhookError(
      'BODY_NOT_JSON',
      'body is form-encoded (payload=…): set the webhook content type to application/json',
      '(body)',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw webhookError(
      'BODY_NOT_JSON',
      `body is not valid JSON (${text.trim() === '' ? 'empty' : 'malformed or truncated'}): webhooks must send application/json`,
      '(body)',
      cause,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw webhookError('BODY_NOT_JSON', `body must be a JSON object, got ${got}`, '(body)');
  }
  return value as Record<string, unknown>;
}
