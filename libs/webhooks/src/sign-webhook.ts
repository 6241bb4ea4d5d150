import { assertSecretAndBody, hmacSha256, standardWebhooksKey } from './hmac';
import type { WebhookProvider } from './provider';
import { webhookError } from './webhook-error';

/** Extra headers for {@link signWebhookBody}, so tests and benchmarks can build complete deliveries. */
export interface SignWebhookOptions {
  /** Event header value, e.g. `push`, `ping` (GitHub) or `Push Hook`, `Tag Push Hook` (GitLab). */
  event?: string;
  /** Delivery id, sent in every delivery-id header the forge uses. */
  deliveryId?: string;
  /** GitLab only: sign with `webhook-signature` (Standard Webhooks) instead of sending the token. */
  gitlabSignature?: { webhookId: string; timestamp: number };
}

/**
 * Headers a forge would send with `body` signed by `secret` (lower-case names, as Node gives them):
 * github `x-hub-signature-256`; gitea `x-gitea-signature`; forgejo `x-forgejo-signature` and
 * `x-gitea-signature`; gitlab `x-gitlab-token`, or `webhook-*` with `gitlabSignature`.
 */
export function signWebhookBody(
  provider: WebhookProvider,
  body: Buffer | string,
  secret: string,
  extra: SignWebhookOptions = {},
): Record<string, string> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  assertSecretAndBody(secret, bytes);
  const hex = hmacSha256(secret, bytes).toString('hex');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const { event, deliveryId } = extra;
  switch (provider) {
    case 'github':
      headers['user-agent'] = 'GitHub-Hookshot/secure-build-test';
      headers['x-hub-signature-256'] = `sha256=${hex}`;
      if (event !== undefined) headers['x-github-event'] = event;
      if (deliveryId !== undefined) headers['x-github-delivery'] = deliveryId;
      break;
    case 'gitea':
      headers['x-gitea-signature'] = hex;
      if (event !== undefined) headers['x-gitea-event'] = event;
      if (deliveryId !== undefined) headers['x-gitea-delivery'] = deliveryId;
      break;
    case 'forgejo':
      headers['x-forgejo-signature'] = hex;
      headers['x-gitea-signature'] = hex;
      if (event !== undefined) headers['x-forgejo-event'] = headers['x-gitea-event'] = event;
      if (deliveryId !== undefined) headers['x-forgejo-delivery'] = headers['x-gitea-delivery'] = deliveryId;
      break;
    case 'gitlab':
      if (extra.gitlabSignature) {
        const { webhookId, timestamp } = extra.gitlabSignature;
        const mac = hmacSha256(standardWebhooksKey(secret), `${webhookId}.${timestamp}.`, bytes);
        headers['webhook-id'] = webhookId;
        headers['webhook-timestamp'] = String(timestamp);
        headers['webhook-signature'] = `v1,${mac.toString('base64')}`;
      } else {
        headers['x-gitlab-token'] = secret;
      }
      if (event !== undefined) headers['x-gitlab-event'] = event;
      if (deliveryId !== undefined) headers['idempotency-key'] = headers['x-gitlab-event-uuid'] = deliveryId;
      break;
    default:
      throw webhookError(
        'UNKNOWN_PROVIDER',
        `unknown webhook provider ${JSON.stringify(String(provider))}`,
        'provider',
      );
  }
  return headers;
}
