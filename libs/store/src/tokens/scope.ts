/** Permission carried by an API token; persisted in api_tokens.scopes (never renamed without a migration). */
export type Scope = 'builds:write' | 'builds:read' | 'provenance:read' | 'attestation:write' | 'admin';

/** Every scope. */
export const ALL_SCOPES: readonly Scope[] = [
  'builds:write',
  'builds:read',
  'provenance:read',
  'attestation:write',
  'admin',
];

/** True when `value` is a known scope. */
export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (ALL_SCOPES as readonly string[]).includes(value);
}
