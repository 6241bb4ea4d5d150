import { replaceControlCharacters } from '@secure-build/common';

import { RegistryError, type RegistryErrorCode } from './registry-error';

/** One entry of a registry's `{"errors":[{code,message,detail}]}` body. */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
}

const MAX_TEXT = 200;

/** `METHOD host/path` for messages: never the query (upload state, storage signatures) or userinfo. */
export function describeRequest(method: string, url: URL): string {
  return `${method} ${url.host}${url.pathname}`;
}

/**
 * Reads the distribution-spec error list out of a response body; tolerant of anything else (HTML,
 * plain text), which yields an empty list.
 */
export function parseRegistryErrors(body: string, redact: (text: string) => string): RegistryErrorEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return [];
  }
  const errors = (value as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.slice(0, 10).flatMap((entry: unknown) => {
    const { code, message } = (entry ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code !== 'string') return [];
    return [
      {
        code: clean(code, redact).slice(0, 64),
        ...(typeof message === 'string' ? { message: clean(message, redact) } : {}),
      },
    ];
  });
}

/** `[MANIFEST_UNKNOWN: manifest unknown, …]` or an empty string. */
export function formatRegistryErrors(errors: readonly RegistryErrorEntry[]): string {
  if (errors.length === 0) return '';
  return ` [${errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ')}]`;
}

/** Maps an unexpected response to a code: 401/403 first, then the registry's own codes, then `fallback`. */
export function codeForStatus(
  status: number,
  errors: readonly RegistryErrorEntry[],
  fallback: RegistryErrorCode,
): RegistryErrorCode {
  if (status === 401) return 'REGISTRY_AUTH_FAILED';
  if (status === 403) return 'REGISTRY_DENIED';
  const codes = new Set(errors.map((e) => e.code));
  if (codes.has('DENIED')) return 'REGISTRY_DENIED';
  if (codes.has('UNAUTHORIZED')) return 'REGISTRY_AUTH_FAILED';
  if (codes.has('DIGEST_INVALID')) return 'DIGEST_MISMATCH';
  if (codes.has('SIZE_INVALID')) return 'SIZE_MISMATCH';
  if (codes.has('MANIFEST_INVALID') || codes.has('MANIFEST_BLOB_UNKNOWN')) return 'MANIFEST_INVALID';
  if (codes.has('NAME_INVALID') || codes.has('TAG_INVALID')) return 'REFERENCE_INVALID';
  if (status === 404 && codes.has('BLOB_UNKNOWN')) return 'BLOB_UNKNOWN';
  if (status === 404 && codes.has('MANIFEST_UNKNOWN')) return 'MANIFEST_UNKNOWN';
  return fallback;
}

/** Builds the error for an unexpected status, naming request, status and the registry's codes. */
export function unexpectedStatus(
  method: string,
  url: URL,
  status: number,
  errors: readonly RegistryErrorEntry[],
  fallback: RegistryErrorCode,
  expected?: string,
): RegistryError {
  const code = codeForStatus(status, errors, fallback);
  const wanted = expected === undefined ? '' : ` (expected ${expected})`;
  return new RegistryError(
    code,
    `${describeRequest(method, url)}: unexpected status ${status}${wanted}${formatRegistryErrors(errors)}`,
    { details: { method, registry: url.host, path: url.pathname, status, errors: errors.map((e) => e.code) } },
  );
}

function clean(text: string, redact: (text: string) => string): string {
  const flat = replaceControlCharacters(redact(text), ' ');
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
}
