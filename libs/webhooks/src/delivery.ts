import { parseJsonObjectBody } from './payload-body';
import { ANY_COMMA, readHeader } from './headers';
import type { IncomingHeaders } from './headers';
import type { WebhookDelivery, WebhookEventKind } from './delivery.types';
import type { WebhookProvider } from './provider';
import { parseGithubLikePush, parseGitlabPush } from './push-payload';
import { webhookError } from './webhook-error';

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;

/** Delivery-id headers per provider, in order of preference. Persistent: dedupe keys derive from them. */
const DELIVERY_HEADERS: Record<WebhookProvider, readonly string[]> = {
  github: ['x-github-delivery'],
  gitea: ['x-gitea-delivery'],
  forgejo: ['x-forgejo-delivery', 'x-gitea-delivery'],
  // Idempotency-Key is stable across retries (GitLab >= 17.4); the UUIDs are per attempt.
  gitlab: ['idempotency-key', 'x-gitlab-event-uuid', 'x-gitlab-webhook-uuid'],
};

/** Event headers per provider, in order of preference. */
const EVENT_HEADERS: Record<WebhookProvider, readonly string[]> = {
  github: ['x-github-event'],
  gitea: ['x-gitea-event'],
  forgejo: ['x-forgejo-event', 'x-gitea-event'],
  gitlab: ['x-gitlab-event'],
};

/**
 * Reads a delivery that verifyWebhookSignature has already authenticated: delivery id, event and,
 * for pushes, the validated ref update. Throws WebhookError DELIVERY_ID_MISSING,
 * DELIVERY_ID_INVALID, EVENT_MISSING, BODY_NOT_JSON or PAYLOAD_INVALID (naming the field).
 */
export function parseWebhookDelivery(
  provider: WebhookProvider,
  headers: IncomingHeaders,
  rawBody: Buffer,
): WebhookDelivery {
  if (!Object.hasOwn(DELIVERY_HEADERS, provider)) {
    throw webhookError('UNKNOWN_PROVIDER', `unknown webhook provider ${JSON.stringify(String(provider))}`, 'provider');
  }
  const deliveryId = readDeliveryId(provider, headers);
  const eventName = readEventName(provider, headers);
  const kind = eventKind(provider, eventName);
  const body = parseJsonObjectBody(rawBody);
  if (kind !== 'push') return { provider, deliveryId, eventName, kind };
  const push = provider === 'gitlab' ? parseGitlabPush(body, eventName) : parseGithubLikePush(body);
  return { provider, deliveryId, eventName, kind, push };
}

function readDeliveryId(provider: WebhookProvider, headers: IncomingHeaders): string {
  const names = DELIVERY_HEADERS[provider];
  const value = firstHeader(headers, names, (name) =>
    webhookError('DELIVERY_ID_INVALID', `${name} header is repeated: a delivery carries exactly one id`, name),
  );
  if (value === undefined) {
    throw webhookError('DELIVERY_ID_MISSING', `delivery id header is missing (${names.join(' or ')})`, names[0]);
  }
  if (!DELIVERY_ID.test(value.value)) {
    throw webhookError(
      'DELIVERY_ID_INVALID',
      `${value.name} must be 1-128 characters of [A-Za-z0-9._:-] (got ${value.value.length} characters)`,
      value.name,
    );
  }
  return value.value;
}

function readEventName(provider: WebhookProvider, headers: IncomingHeaders): string {
  const names = EVENT_HEADERS[provider];
  const value = firstHeader(headers, names, (name) =>
    webhookError('EVENT_MISSING', `${name} header is repeated: a delivery carries exactly one event`, name),
  );
  if (value === undefined) {
    throw webhookError('EVENT_MISSING', `event header is missing (${names.join(' or ')})`, names[0]);
  }
  if (!EVENT_NAME.test(value.value)) {
    throw webhookError('EVENT_MISSING', `${value.name} is not an event name (letters, digits, " _.-")`, value.name);
  }
  return value.value;
}

/** First present header of `names`; a repeated one is refused rather than skipped. */
function firstHeader(
  headers: IncomingHeaders,
  names: readonly string[],
  onRepeated: (name: string) => Error,
): { name: string; value: string } | undefined {
  for (const name of names) {
    const read = readHeader(headers, name, ANY_COMMA);
    if (read.status === 'repeated') throw onRepeated(name);
    if (read.status === 'present') return { name, value: read.value };
  }
  return undefined;
}

function eventKind(provider: WebhookProvider, eventName: string): WebhookEventKind {
  switch (provider) {
    case 'github':
      return eventName === 'push' ? 'push' : eventName === 'ping' ? 'ping' : 'other';
    case 'gitea':
    case 'forgejo':
      // Gitea and Forgejo announce tag pushes as `push` with refs/tags/…; create/delete are other.
      return eventName === 'push' ? 'push' : 'other';
    case 'gitlab':
      // System Hook deliveries also carry pushes but are instance-wide: never a project trigger.
      return eventName === 'Push Hook' || eventName === 'Tag Push Hook' ? 'push' : 'other';
  }
}
