import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import type { IncomingHeaders } from './headers';
import type { WebhookProvider } from './provider';
import { signWebhookBody } from './sign-webhook';
import { verifyWebhookSignature } from './verify-signature';
import { WebhookError } from './webhook-error';
import type { WebhookErrorCode } from './webhook-error';

const SECRET = 'test-secret-5f1c0a';
const BODY = Buffer.from('{"ref":"refs/heads/main","zen":"ok"}');

function refusal(fn: () => unknown): WebhookError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebhookError) return error;
    throw error;
  }
  throw new Error('expected a WebhookError');
}

function expectRefused(fn: () => unknown, code: WebhookErrorCode, field?: string): WebhookError {
  const error = refusal(fn);
  expect(error.code).toBe(code);
  if (field !== undefined) expect(error.details?.field).toBe(field);
  expect(error.message).not.toContain(SECRET);
  return error;
}

function flipLastByte(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  copy[copy.length - 1] ^= 0x01;
  return copy;
}

describe('verifyWebhookSignature', () => {
  describe('GitHub documented test vector', () => {
    const secret = "It's a Secret to Everybody";
    const body = Buffer.from('Hello, World!');
    const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

    it('is what signWebhookBody produces', () => {
      expect(signWebhookBody('github', body, secret)['x-hub-signature-256']).toBe(signature);
    });

    it('verifies', () => {
      expect(() => verifyWebhookSignature('github', { 'x-hub-signature-256': signature }, body, secret)).not.toThrow();
    });

    it('refuses the same signature over "Hello, World?"', () => {
      const headers = { 'x-hub-signature-256': signature };
      expectRefused(
        () => verifyWebhookSignature('github', headers, Buffer.from('Hello, World?'), secret),
        'SIGNATURE_INVALID',
        'x-hub-signature-256',
      );
    });
  });

  /** Signature header each HMAC provider is checked on, and a signed header set for BODY. */
  const hmacProviders: { provider: WebhookProvider; header: string }[] = [
    { provider: 'github', header: 'x-hub-signature-256' },
    { provider: 'gitea', header: 'x-gitea-signature' },
    { provider: 'forgejo', header: 'x-forgejo-signature' },
  ];

  describe.each(hmacProviders)('$provider HMAC', ({ provider, header }) => {
    const signed = signWebhookBody(provider, BODY, SECRET);
    const prefix = provider === 'github' ? 'sha256=' : '';

    it('accepts the signature a forge sends', () => {
      expect(() => verifyWebhookSignature(provider, signed, BODY, SECRET)).not.toThrow();
    });

    it('accepts upper-case hex', () => {
      const hex = signed[header].slice(prefix.length).toUpperCase();
      expect(() => verifyWebhookSignature(provider, { [header]: prefix + hex }, BODY, SECRET)).not.toThrow();
    });

    it('accepts header names in any case (hand-built header objects)', () => {
      expect(() =>
        verifyWebhookSignature(provider, { [header.toUpperCase()]: signed[header] }, BODY, SECRET),
      ).not.toThrow();
    });

    it('refuses a one-byte body change', () => {
      expectRefused(
        () => verifyWebhookSignature(provider, signed, flipLastByte(BODY), SECRET),
        'SIGNATURE_INVALID',
        header,
      );
    });

    it('refuses a wrong secret', () => {
      expectRefused(() => verifyWebhookSignature(provider, signed, BODY, `${SECRET}x`), 'SIGNATURE_INVALID', header);
    });

    it('refuses a body signed with another secret', () => {
      const other = signWebhookBody(provider, BODY, 'another-secret');
      expectRefused(() => verifyWebhookSignature(provider, other, BODY, SECRET), 'SIGNATURE_INVALID');
    });

    it('refuses a missing signature header', () => {
      expectRefused(
        () => verifyWebhookSignature(provider, { 'content-type': 'application/json' }, BODY, SECRET),
        'SIGNATURE_MISSING',
      );
    });

    it('refuses an empty signature header', () => {
      expectRefused(() => verifyWebhookSignature(provider, { [header]: '' }, BODY, SECRET), 'SIGNATURE_MISSING');
    });

    it('refuses an array-valued (repeated) header', () => {
      expectRefused(
        () => verifyWebhookSignature(provider, { [header]: [signed[header], signed[header]] }, BODY, SECRET),
        'SIGNATURE_MISSING',
        header,
      );
      expectRefused(
        () => verifyWebhookSignature(provider, { [header]: [signed[header]] }, BODY, SECRET),
        'SIGNATURE_MISSING',
        header,
      );
    });

    it('refuses a header repeated the way Node joins it (", ")', () => {
      const joined = `${signed[header]}, ${signed[header]}`;
      const error = expectRefused(
        () => verifyWebhookSignature(provider, { [header]: joined }, BODY, SECRET),
        'SIGNATURE_MISSING',
        header,
      );
      expect(error.message).toMatch(/repeated/);
    });

    it('refuses a header given under two spellings', () => {
      const headers = { [header]: signed[header], [header.toUpperCase()]: signed[header] };
      expectRefused(() => verifyWebhookSignature(provider, headers, BODY, SECRET), 'SIGNATURE_MISSING', header);
    });

    it.each([
      ['non-hex digits', 'zz'.repeat(32)],
      ['too short', 'ab'.repeat(31)],
      ['too long', 'ab'.repeat(33)],
      ['SHA-1 length', 'ab'.repeat(20)],
      ['trailing space', `${'ab'.repeat(32)} `],
    ])('refuses malformed hex (%s)', (_why, hex) => {
      const error = expectRefused(
        () => verifyWebhookSignature(provider, { [header]: prefix + hex }, BODY, SECRET),
        'SIGNATURE_MALFORMED',
        header,
      );
      expect(error.message).not.toContain(hex.trim());
    });

    it('refuses a wrong prefix', () => {
      const hex = signed[header].slice(prefix.length);
      const wrong = provider === 'github' ? `sha1=${hex}` : `sha256=${hex}`;
      expectRefused(() => verifyWebhookSignature(provider, { [header]: wrong }, BODY, SECRET), 'SIGNATURE_MALFORMED');
    });

    it('never puts the received signature in the message', () => {
      const other = signWebhookBody(provider, BODY, 'another-secret');
      const error = refusal(() => verifyWebhookSignature(provider, other, BODY, SECRET));
      expect(error.message).not.toContain(other[header].slice(prefix.length, prefix.length + 16));
    });
  });

  describe('github specifics', () => {
    it('refuses the legacy sha1 header alone, saying sha256 is required', () => {
      const sha1 = `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}`;
      const error = expectRefused(
        () => verifyWebhookSignature('github', { 'x-hub-signature': sha1 }, BODY, SECRET),
        'SIGNATURE_MISSING',
        'x-hub-signature-256',
      );
      expect(error.message).toMatch(/sha256 is required/);
    });

    it('accepts when both the sha1 and sha256 headers are sent (sha256 decides)', () => {
      const sha1 = `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}`;
      const headers = { ...signWebhookBody('github', BODY, SECRET), 'x-hub-signature': sha1 };
      expect(() => verifyWebhookSignature('github', headers, BODY, SECRET)).not.toThrow();
    });

    it('refuses a Gitea-style signature (no prefix) sent to a GitHub project', () => {
      const headers = { 'x-hub-signature-256': signWebhookBody('gitea', BODY, SECRET)['x-gitea-signature'] };
      expectRefused(() => verifyWebhookSignature('github', headers, BODY, SECRET), 'SIGNATURE_MALFORMED');
    });
  });

  describe('forgejo specifics', () => {
    const gitea = signWebhookBody('gitea', BODY, SECRET);

    it('sends both x-forgejo-signature and x-gitea-signature', () => {
      const headers = signWebhookBody('forgejo', BODY, SECRET);
      expect(headers['x-forgejo-signature']).toBe(gitea['x-gitea-signature']);
      expect(headers['x-gitea-signature']).toBe(gitea['x-gitea-signature']);
    });

    it('falls back to x-gitea-signature', () => {
      expect(() => verifyWebhookSignature('forgejo', gitea, BODY, SECRET)).not.toThrow();
    });

    it('checks x-forgejo-signature when present, even if x-gitea-signature is valid', () => {
      const headers = { ...gitea, 'x-forgejo-signature': signWebhookBody('gitea', BODY, 'x')['x-gitea-signature'] };
      expectRefused(
        () => verifyWebhookSignature('forgejo', headers, BODY, SECRET),
        'SIGNATURE_INVALID',
        'x-forgejo-signature',
      );
    });

    it('gitea does not read x-forgejo-signature', () => {
      const headers = { 'x-forgejo-signature': gitea['x-gitea-signature'] };
      expectRefused(
        () => verifyWebhookSignature('gitea', headers, BODY, SECRET),
        'SIGNATURE_MISSING',
        'x-gitea-signature',
      );
    });
  });

  describe('gitlab token', () => {
    it('accepts the shared secret', () => {
      const headers = signWebhookBody('gitlab', BODY, SECRET);
      expect(headers['x-gitlab-token']).toBe(SECRET);
      expect(() => verifyWebhookSignature('gitlab', headers, BODY, SECRET)).not.toThrow();
    });

    it('does not depend on the body (GitLab tokens do not sign it)', () => {
      expect(() =>
        verifyWebhookSignature('gitlab', { 'x-gitlab-token': SECRET }, flipLastByte(BODY), SECRET),
      ).not.toThrow();
    });

    it.each([
      ['wrong token', 'not-the-secret'],
      ['prefix of the secret', SECRET.slice(0, -1)],
      ['secret plus one character', `${SECRET}!`],
      ['different case', SECRET.toUpperCase()],
      ['much longer token', SECRET.repeat(100)],
    ])('refuses a %s, through fixed-length digests', (_why, token) => {
      const error = expectRefused(
        () => verifyWebhookSignature('gitlab', { 'x-gitlab-token': token }, BODY, SECRET),
        'SIGNATURE_INVALID',
        'x-gitlab-token',
      );
      expect(error.message).not.toContain(token);
    });

    it('accepts a token that contains ", " (only arrays count as repeated for tokens)', () => {
      const secret = 'a, b';
      expect(() => verifyWebhookSignature('gitlab', { 'x-gitlab-token': secret }, BODY, secret)).not.toThrow();
    });

    it.each<[string, IncomingHeaders]>([
      ['absent', {}],
      ['empty', { 'x-gitlab-token': '' }],
      ['array-valued', { 'x-gitlab-token': [SECRET, SECRET] }],
      ['duplicated under two spellings', { 'x-gitlab-token': SECRET, 'X-Gitlab-Token': SECRET }],
    ])('refuses a token header that is %s', (_why, headers) => {
      expectRefused(
        () => verifyWebhookSignature('gitlab', headers, BODY, SECRET),
        'SIGNATURE_MISSING',
        'x-gitlab-token',
      );
    });
  });

  describe('gitlab webhook-signature (Standard Webhooks)', () => {
    const NOW_SECONDS = 1_763_800_000;
    const now = () => NOW_SECONDS * 1000;
    const webhookId = '3f2a5d24-7b2e-4c47-9b1e-2b3f6f1a9c11';
    const signed = (body: Buffer, secret = SECRET, timestamp = NOW_SECONDS) =>
      signWebhookBody('gitlab', body, secret, { gitlabSignature: { webhookId, timestamp } });

    it('signs "{webhook-id}.{webhook-timestamp}.{body}" with HMAC-SHA256, base64', () => {
      const headers = signed(BODY);
      const expected = createHmac('sha256', SECRET)
        .update(`${webhookId}.${NOW_SECONDS}.`)
        .update(BODY)
        .digest('base64');
      expect(headers['webhook-signature']).toBe(`v1,${expected}`);
      expect(headers['webhook-id']).toBe(webhookId);
      expect(headers['webhook-timestamp']).toBe(String(NOW_SECONDS));
      expect(headers['x-gitlab-token']).toBeUndefined();
    });

    it('accepts a valid signature within the tolerance', () => {
      expect(() => verifyWebhookSignature('gitlab', signed(BODY), BODY, SECRET, { now })).not.toThrow();
      const early = signed(BODY, SECRET, NOW_SECONDS - 299);
      expect(() => verifyWebhookSignature('gitlab', early, BODY, SECRET, { now })).not.toThrow();
      const late = signed(BODY, SECRET, NOW_SECONDS + 299);
      expect(() => verifyWebhookSignature('gitlab', late, BODY, SECRET, { now })).not.toThrow();
    });

    it('uses the base64-decoded key of a whsec_ signing token, as Standard Webhooks specifies', () => {
      const key = Buffer.alloc(32, 7);
      const secret = `whsec_${key.toString('base64')}`;
      const headers = signed(BODY, secret);
      const expected = createHmac('sha256', key).update(`${webhookId}.${NOW_SECONDS}.`).update(BODY).digest('base64');
      expect(headers['webhook-signature']).toBe(`v1,${expected}`);
      expect(() => verifyWebhookSignature('gitlab', headers, BODY, secret, { now })).not.toThrow();
    });

    it('accepts when one of several space-separated signatures matches (key rotation)', () => {
      const headers = signed(BODY);
      const other = signed(BODY, 'old-secret')['webhook-signature'];
      const rotated = { ...headers, 'webhook-signature': `${other} ${headers['webhook-signature']}` };
      expect(() => verifyWebhookSignature('gitlab', rotated, BODY, SECRET, { now })).not.toThrow();
    });

    it('ignores entries of other versions but needs one v1 entry', () => {
      const headers = signed(BODY);
      const mixed = { ...headers, 'webhook-signature': `v1a,c2lnbmF0dXJl ${headers['webhook-signature']}` };
      expect(() => verifyWebhookSignature('gitlab', mixed, BODY, SECRET, { now })).not.toThrow();
      const onlyOther = { ...headers, 'webhook-signature': 'v1a,c2lnbmF0dXJl' };
      expectRefused(
        () => verifyWebhookSignature('gitlab', onlyOther, BODY, SECRET, { now }),
        'SIGNATURE_MALFORMED',
        'webhook-signature',
      );
    });

    it('refuses a one-byte body change and a wrong secret', () => {
      const headers = signed(BODY);
      expectRefused(
        () => verifyWebhookSignature('gitlab', headers, flipLastByte(BODY), SECRET, { now }),
        'SIGNATURE_INVALID',
        'webhook-signature',
      );
      expectRefused(
        () => verifyWebhookSignature('gitlab', headers, BODY, 'wrong', { now }),
        'SIGNATURE_INVALID',
        'webhook-signature',
      );
    });

    it('binds the webhook-id and timestamp', () => {
      const headers = signed(BODY);
      const otherId = { ...headers, 'webhook-id': 'another-delivery' };
      expectRefused(() => verifyWebhookSignature('gitlab', otherId, BODY, SECRET, { now }), 'SIGNATURE_INVALID');
      const otherTime = { ...headers, 'webhook-timestamp': String(NOW_SECONDS + 1) };
      expectRefused(() => verifyWebhookSignature('gitlab', otherTime, BODY, SECRET, { now }), 'SIGNATURE_INVALID');
    });

    it('takes precedence over x-gitlab-token: a valid token does not rescue a bad signature', () => {
      const headers = { ...signed(BODY, 'wrong'), 'x-gitlab-token': SECRET };
      expectRefused(() => verifyWebhookSignature('gitlab', headers, BODY, SECRET, { now }), 'SIGNATURE_INVALID');
    });

    it.each([
      ['5 minutes and 1 second old', NOW_SECONDS - 301],
      ['5 minutes and 1 second in the future', NOW_SECONDS + 301],
      ['a day old (replay)', NOW_SECONDS - 86_400],
    ])('refuses an authentic delivery %s', (_why, timestamp) => {
      expectRefused(
        () => verifyWebhookSignature('gitlab', signed(BODY, SECRET, timestamp), BODY, SECRET, { now }),
        'TIMESTAMP_OUT_OF_RANGE',
        'webhook-timestamp',
      );
    });

    it('honours a custom tolerance', () => {
      const headers = signed(BODY, SECRET, NOW_SECONDS - 100);
      expectRefused(
        () => verifyWebhookSignature('gitlab', headers, BODY, SECRET, { now, toleranceSeconds: 60 }),
        'TIMESTAMP_OUT_OF_RANGE',
      );
    });

    it.each([
      ['webhook-id', 'SIGNATURE_MISSING'],
      ['webhook-timestamp', 'SIGNATURE_MISSING'],
    ] as const)('refuses a signature without %s', (name, code) => {
      const headers: IncomingHeaders = { ...signed(BODY) };
      delete headers[name];
      expectRefused(() => verifyWebhookSignature('gitlab', headers, BODY, SECRET, { now }), code, name);
    });

    it.each<[string, Record<string, string>, string]>([
      ['timestamp not in Unix seconds', { 'webhook-timestamp': '2025-11-22T10:00:00Z' }, 'webhook-timestamp'],
      ['timestamp in milliseconds', { 'webhook-timestamp': String(NOW_SECONDS * 1000) + '0' }, 'webhook-timestamp'],
      ['webhook-id with spaces', { 'webhook-id': 'a b' }, 'webhook-id'],
      ['signature without version', { 'webhook-signature': 'c2lnbmF0dXJl' }, 'webhook-signature'],
      ['signature in hex', { 'webhook-signature': `v1,${'ab'.repeat(32)}` }, 'webhook-signature'],
      [
        'signature of the wrong length',
        { 'webhook-signature': `v1,${Buffer.alloc(20).toString('base64')}` },
        'webhook-signature',
      ],
      [
        'too many entries',
        {
          'webhook-signature': Array(9)
            .fill(`v1,${Buffer.alloc(32).toString('base64')}`)
            .join(' '),
        },
        'webhook-signature',
      ],
    ])('refuses a malformed %s', (_why, override, field) => {
      const headers = { ...signed(BODY), ...override };
      expectRefused(
        () => verifyWebhookSignature('gitlab', headers, BODY, SECRET, { now }),
        'SIGNATURE_MALFORMED',
        field,
      );
    });

    it('refuses a repeated webhook-signature header (Node joins with ", ")', () => {
      const headers = signed(BODY);
      const joined = {
        ...headers,
        'webhook-signature': `${headers['webhook-signature']}, ${headers['webhook-signature']}`,
      };
      expectRefused(
        () => verifyWebhookSignature('gitlab', joined, BODY, SECRET, { now }),
        'SIGNATURE_MISSING',
        'webhook-signature',
      );
    });

    it('defaults the clock to Date.now', () => {
      const headers = signed(BODY, SECRET, Math.floor(Date.now() / 1000));
      expect(() => verifyWebhookSignature('gitlab', headers, BODY, SECRET)).not.toThrow();
      expectRefused(() => verifyWebhookSignature('gitlab', signed(BODY), BODY, SECRET), 'TIMESTAMP_OUT_OF_RANGE');
    });
  });

  describe('wiring errors', () => {
    it('throws a TypeError for an empty secret (a configuration bug, never a client error)', () => {
      const headers = signWebhookBody('github', BODY, SECRET);
      expect(() => verifyWebhookSignature('github', headers, BODY, '')).toThrow(TypeError);
    });

    it('throws a TypeError when the raw body is missing (rawBody: true not set)', () => {
      const headers = signWebhookBody('github', BODY, SECRET);
      expect(() => verifyWebhookSignature('github', headers, undefined as unknown as Buffer, SECRET)).toThrow(
        TypeError,
      );
    });

    it('refuses an unknown provider', () => {
      expectRefused(() => verifyWebhookSignature('bitbucket' as WebhookProvider, {}, BODY, SECRET), 'UNKNOWN_PROVIDER');
    });
  });
});
