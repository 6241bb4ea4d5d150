import { webhookError } from './webhook-error';

/** Forges whose push webhooks this lib understands. Persistent identifier: stored with projects. */
export type WebhookProvider = 'github' | 'gitlab' | 'gitea' | 'forgejo';

/** Every supported provider, in a stable order. */
export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = ['github', 'gitlab', 'gitea', 'forgejo'];

/** Validates a provider name (exact, lower case); anything else is UNKNOWN_PROVIDER. */
export function parseWebhookProvider(input: string): WebhookProvider {
  if (typeof input === 'string' && (WEBHOOK_PROVIDERS as readonly string[]).includes(input)) {
    return input as WebhookProvider;
  }
  const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 40)) : typeof input;
  throw webhookError(
    'UNKNOWN_PROVIDER',
    `unknown webhook provider ${shown}: expected one of ${WEBHOOK_PROVIDERS.join(', ')}`,
    'provider',
  );
}
