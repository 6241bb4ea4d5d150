import { assertSecretAndBody, digestsEqual, hmacSha256, sha256Bytes, standardWebhooksKey } from './hmac';
import { ANY_COMMA, readHeader } from './headers';
import type { IncomingHeaders } from './headers';
import type { WebhookProvider } from './provider';
import { webhookError } from './webhook-error';

/** Options for {@link verifyWebhookSignature}. */
export interface VerifyWebhookSignatureOptions {
  /** Clock for GitLab's `webhook-timestamp` check, in epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Largest accepted distance between `webhook-timestamp` and now, in seconds; defaults to 300. */
  toleranceSeconds?: number;
}

/** Default replay window for signed GitLab deliveries (Standard Webhooks recommends 5 minutes). */
export const DEFAULT_TIMESTAMP_TOLERANCE_SECONDS = 300;

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const GITHUB_PREFIX = 'sha256=';
const UNIX_SECONDS = /^\d{1,12}$/;
const WEBHOOK_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const STANDARD_SIGNATURE = /^v1,([A-Za-z0-9+/]{43}=)$/;
const MAX_SIGNATURES = 8;

/**
 * Authenticates a delivery before anything in it is trusted: the HMAC is computed over the raw
 * bytes and compared in constant time. Throws WebhookError SIGNATURE_MISSING, SIGNATURE_MALFORMED,
 * SIGNATURE_INVALID or TIMESTAMP_OUT_OF_RANGE; returns normally only for an authentic delivery.
 *
 * - github: `x-hub-signature-256: sha256=<hex>`; the sha1 `x-hub-signature` alone is refused.
 * - gitea: `x-gitea-signature: <hex>`; forgejo: `x-forgejo-signature`, else `x-gitea-signature`.
 * - gitlab: `webhook-signature` (Standard Webhooks, with `webhook-id` and `webhook-timestamp`)
 *   when present, else the `x-gitlab-token` shared secret compared through SHA-256 digests.
 */
export function verifyWebhookSignature(
  provider: WebhookProvider,
  headers: IncomingHeaders,
  rawBody: Buffer,
  secret: string,
  options: VerifyWebhookSignatureOptions = {},
): void {
  assertSecretAndBody(secret, rawBody);
  switch (provider) {
    case 'github':
      return verifyGithub(headers, rawBody, secret);
    case 'gitea':
      return verifyHexHmac(headers, 'x-gitea-signature', rawBody, secret);
    case 'forgejo': {
      const name =
        readHeader(headers, 'x-forgejo-signature').status === 'absent' ? 'x-gitea-signature' : 'x-forgejo-signature';
      return verifyHexHmac(headers, name, rawBody, secret);
    }
    case 'gitlab':
      if (readHeader(headers, 'webhook-signature').status !== 'absent') {
        return verifyStandardWebhook(headers, rawBody, secret, options);
      }
      return verifyGitlabToken(headers, secret);
    default:
      throw webhookError(
        'UNKNOWN_PROVIDER',
        `unknown webhook provider ${JSON.stringify(String(provider))}`,
        'provider',
      );
  }
}

/** The single value of a signature header, or SIGNATURE_MISSING when absent, empty or repeated. */
function requireSignatureHeader(headers: IncomingHeaders, name: string, repeated?: RegExp): string {
  const read = readHeader(headers, name, repeated);
  if (read.status === 'present') return read.value;
  const why = read.status === 'absent' ? 'is missing or empty' : 'is repeated: a delivery must carry exactly one';
  return missing(`${name} header ${why}`, name);
}

function missing(message: string, field: string): never {
  throw webhookError('SIGNATURE_MISSING', message, field);
}

function malformed(message: string, field: string): never {
  throw webhookError('SIGNATURE_MALFORMED', message, field);
}

function invalid(field: string): never {
  throw webhookError(
    'SIGNATURE_INVALID',
    `${field} does not match the delivery: wrong secret, or the body was changed in transit`,
    field,
  );
}

function verifyGithub(headers: IncomingHeaders, rawBody: Buffer, secret: string): void {
  const name = 'x-hub-signature-256';
  if (readHeader(headers, name).status === 'absent' && readHeader(headers, 'x-hub-signature').status !== 'absent') {
    missing(`only the legacy SHA-1 x-hub-signature header was sent; sha256 is required (${name}: sha256=<hex>)`, name);
  }
  const value = requireSignatureHeader(headers, name, ANY_COMMA);
  if (!value.startsWith(GITHUB_PREFIX)) malformed(`${name} must start with "${GITHUB_PREFIX}"`, name);
  checkHexDigest(value.slice(GITHUB_PREFIX.length), rawBody, secret, name);
}

function verifyHexHmac(headers: IncomingHeaders, name: string, rawBody: Buffer, secret: string): void {
  const value = requireSignatureHeader(headers, name, ANY_COMMA);
  checkHexDigest(value, rawBody, secret, name);
}

function checkHexDigest(hex: string, rawBody: Buffer, secret: string, name: string): void {
  if (!HEX_SHA256.test(hex)) {
    malformed(`${name} must carry 64 hex digits of HMAC-SHA256 (got ${hex.length} characters)`, name);
  }
  if (!digestsEqual(Buffer.from(hex, 'hex'), hmacSha256(secret, rawBody))) invalid(name);
}

function verifyGitlabToken(headers: IncomingHeaders, secret: string): void {
  const name = 'x-gitlab-token';
  // A token may itself contain ", ", so only arrays and duplicate keys count as repeated here.
  const token = requireSignatureHeader(headers, name);
  if (!digestsEqual(sha256Bytes(token), sha256Bytes(secret))) invalid(name);
}

function verifyStandardWebhook(
  headers: IncomingHeaders,
  rawBody: Buffer,
  secret: string,
  options: VerifyWebhookSignatureOptions,
): void {
  // Node joins a repeated header with ", "; entries of one header are separated by single spaces.
  const signatures = requireSignatureHeader(headers, 'webhook-signature', /,\s/);
  const id = requireSignatureHeader(headers, 'webhook-id', ANY_COMMA);
  const timestamp = requireSignatureHeader(headers, 'webhook-timestamp', ANY_COMMA);
  if (!WEBHOOK_ID.test(id)) malformed('webhook-id must be 1-128 characters of [A-Za-z0-9._:-]', 'webhook-id');
  if (!UNIX_SECONDS.test(timestamp)) malformed('webhook-timestamp must be Unix seconds', 'webhook-timestamp');

  const entries = signatures.trim().split(' ');
  if (entries.length > MAX_SIGNATURES)
    malformed(`webhook-signature carries more than ${MAX_SIGNATURES} entries`, 'webhook-signature');
  const candidates: Buffer[] = [];
  for (const entry of entries) {
    if (!entry.startsWith('v1,')) continue; // other versions (e.g. asymmetric v1a) are not ours to check
    const match = STANDARD_SIGNATURE.exec(entry);
    if (!match) malformed('webhook-signature entries must be v1,<base64 of 32 bytes>', 'webhook-signature');
    candidates.push(Buffer.from(match[1], 'base64'));
  }
  if (candidates.length === 0) malformed('webhook-signature has no v1 entry', 'webhook-signature');

  const expected = hmacSha256(standardWebhooksKey(secret), `${id}.${timestamp}.`, rawBody);
  let matched = false;
  for (const candidate of candidates) matched = digestsEqual(candidate, expected) || matched;
  if (!matched) invalid('webhook-signature');

  const tolerance = options.toleranceSeconds ?? DEFAULT_TIMESTAMP_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) {
    throw webhookError(
      'TIMESTAMP_OUT_OF_RANGE',
      `webhook-timestamp is more than ${tolerance} s away from the current time: stale, replayed or clock skew`,
      'webhook-timestamp',
    );
  }
}
