import { describe, expect, it } from 'vitest';

import type { WebhookProvider } from './provider';
import { signWebhookBody } from './sign-webhook';
import { WebhookError } from './webhook-error';

const BODY = '{"zen":"Design for failure."}';

describe('signWebhookBody', () => {
  it('github: x-hub-signature-256, x-github-event, x-github-delivery', () => {
    expect(signWebhookBody('github', BODY, 's', { event: 'push', deliveryId: 'd-1' })).toEqual({
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/secure-build-test',
      'x-hub-signature-256': expect.stringMatching(/^sha256=[0-9a-f]{64}$/),
      'x-github-event': 'push',
      'x-github-delivery': 'd-1',
    });
  });

  it('gitea: unprefixed x-gitea-signature, x-gitea-event, x-gitea-delivery', () => {
    expect(signWebhookBody('gitea', BODY, 's', { event: 'push', deliveryId: 'd-1' })).toEqual({
      'content-type': 'application/json',
      'x-gitea-signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      'x-gitea-event': 'push',
      'x-gitea-delivery': 'd-1',
    });
  });

  it('forgejo: the Forgejo headers plus their Gitea copies', () => {
    const headers = signWebhookBody('forgejo', BODY, 's', { event: 'push', deliveryId: 'd-1' });
    expect(headers).toMatchObject({
      'x-forgejo-event': 'push',
      'x-gitea-event': 'push',
      'x-forgejo-delivery': 'd-1',
      'x-gitea-delivery': 'd-1',
    });
    expect(headers['x-forgejo-signature']).toBe(signWebhookBody('gitea', BODY, 's')['x-gitea-signature']);
  });

  it('gitlab: the token in clear, x-gitlab-event and both delivery ids', () => {
    expect(signWebhookBody('gitlab', BODY, 's', { event: 'Push Hook', deliveryId: 'd-1' })).toEqual({
      'content-type': 'application/json',
      'x-gitlab-token': 's',
      'x-gitlab-event': 'Push Hook',
      'idempotency-key': 'd-1',
      'x-gitlab-event-uuid': 'd-1',
    });
  });

  it('signs strings and buffers alike', () => {
    expect(signWebhookBody('github', BODY, 's')).toEqual(signWebhookBody('github', Buffer.from(BODY), 's'));
  });

  it('refuses an empty secret and an unknown provider', () => {
    expect(() => signWebhookBody('github', BODY, '')).toThrow(TypeError);
    expect(() => signWebhookBody('gogs' as WebhookProvider, BODY, 's')).toThrow(WebhookError);
  });
});
