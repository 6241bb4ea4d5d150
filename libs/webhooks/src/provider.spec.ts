import { describe, expect, it } from 'vitest';

import { parseWebhookProvider, WEBHOOK_PROVIDERS } from './provider';
import { WebhookError } from './webhook-error';

describe('parseWebhookProvider', () => {
  it.each(WEBHOOK_PROVIDERS)('accepts %s', (provider) => {
    expect(parseWebhookProvider(provider)).toBe(provider);
  });

  it.each(['', 'GitHub', 'bitbucket', 'gogs', ' github', 'github\n', '__proto__', 'constructor'])(
    'refuses %j',
    (input) => {
      const attempt = () => parseWebhookProvider(input);
      expect(attempt).toThrow(WebhookError);
      expect(attempt).toThrow(/unknown webhook provider/);
      try {
        attempt();
      } catch (error) {
        expect(error).toMatchObject({ code: 'UNKNOWN_PROVIDER', details: { field: 'provider' } });
      }
    },
  );

  it('refuses a non-string', () => {
    expect(() => parseWebhookProvider(42 as unknown as string)).toThrow(/unknown webhook provider number/);
  });
});
