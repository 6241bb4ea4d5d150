import { createHash, createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:http';

import { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signWebhookBody, type WebhookProvider } from '@secure-build/webhooks';

import { startApiUnderTest, type ApiUnderTest } from './support/api-under-test';
import { TEST_ADMIN_TOKEN, type ServiceProcess } from './support/service-harness';

// Forged, replayed and malformed webhook deliveries against one API process (no worker) on a
// throwaway PostgreSQL database. Every refusal is a 4xx with a JSON {code, message} naming the
// problem, never a 5xx, and leaves builds, webhook_deliveries and the queue exactly as they were.
// Signatures are always computed as the forge computes them: HMAC-SHA256 over the exact bytes sent.

type Json = { code?: string; message?: string; field?: string; [key: string]: unknown };
interface Reply {
  status: number;
  body: Json;
  text: string;
  contentType: string | undefined;
}
/** Request headers; an array value is sent as that many separate header lines. */
type Headers = Record<string, string | string[]>;

const PROVIDERS: readonly WebhookProvider[] = ['github', 'gitlab', 'gitea', 'forgejo'];
const REPOSITORY = 'https://git.example.com/org/wallet.git';
const OTHER_REPOSITORY = 'https://git.example.com/attacker/wallet.git';
const SHA = (seed: string) => createHash('sha1').update(seed).digest('hex');
const SECRETS: Record<WebhookProvider, string> = {
  github: 'github-secret-for-the-wallet-0001',
  gitlab: 'gitlab-token-for-the-wallet-00002',
  gitea: 'gitea-secret-for-the-wallet-00003',
  forgejo: 'forgejo-secret-for-the-wallet-04',
};
const PUSH_EVENT: Record<WebhookProvider, string> = {
  github: 'push',
  gitlab: 'Push Hook',
  gitea: 'push',
  forgejo: 'push',
};
/** Header carrying the signature (or the GitLab token) per provider, as named in error fields. */
const SIGNATURE_HEADER: Record<WebhookProvider, string> = {
  github: 'x-hub-signature-256',
  gitlab: 'x-gitlab-token',
  gitea: 'x-gitea-signature',
  forgejo: 'x-forgejo-signature',
};
const DELIVERY_HEADER: Record<WebhookProvider, string> = {
  github: 'x-github-delivery',
  gitlab: 'idempotency-key',
  gitea: 'x-gitea-delivery',
  forgejo: 'x-forgejo-delivery',
};
const EVENT_HEADER: Record<WebhookProvider, string> = {
  github: 'x-github-event',
  gitlab: 'x-gitlab-event',
  gitea: 'x-gitea-event',
  forgejo: 'x-forgejo-event',
};
const projectName = (provider: WebhookProvider) => `wallet-${provider}`;
const webhookPath = (provider: string, project: string) => `/v1/webhooks/${provider}/${project}`;

let api: ApiUnderTest;
let db: Client;
let service: ServiceProcess;
let queue: Queue;

interface PushOptions {
  ref?: string;
  after?: string;
  before?: string;
  /** base URL of the repository the payload names (every URL in it is derived from this) */
  repository?: string;
  /** fields replaced at the top level of the payload */
  extra?: Record<string, unknown>;
}

/** A push payload shaped as `provider` sends it, naming `repository` in every URL field. */
function pushPayload(provider: WebhookProvider, options: PushOptions = {}): Record<string, unknown> {
  const after = options.after ?? SHA(`push-${randomUUID()}`);
  const ref = options.ref ?? 'refs/heads/main';
  const before = options.before ?? SHA('parent');
  const httpsUrl = options.repository ?? REPOSITORY;
  const { host, pathname } = new URL(httpsUrl);
  const fullName = pathname.replace(/^\//, '').replace(/\.git$/, '');
  const sshUrl = `git@${host}:${fullName}.git`;
  const webUrl = `https://${host}/${fullName}`;
  if (provider === 'gitlab') {
    return {
      object_kind: 'push',
      event_name: 'push',
      before,
      after,
      ref,
      checkout_sha: after,
      user_username: 'dev',
      project_id: 7,
      project: {
        id: 7,
        path_with_namespace: fullName,
        web_url: webUrl,
        git_http_url: httpsUrl,
        git_ssh_url: sshUrl,
      },
      commits: [{ id: after, message: 'change\n', timestamp: '2025-01-01T00:00:00Z' }],
      total_commits_count: 1,
      repository: { name: 'wallet', git_http_url: httpsUrl, git_ssh_url: sshUrl },
      ...options.extra,
    };
  }
  return {
    ref,
    before,
    after,
    created: false,
    deleted: false,
    forced: false,
    head_commit: { id: after, message: 'change\n', timestamp: '2025-01-01T00:00:00Z' },
    commits: [{ id: after, message: 'change\n' }],
    repository: { id: 42, full_name: fullName, clone_url: httpsUrl, ssh_url: sshUrl, html_url: webUrl },
    pusher: { name: 'dev', login: 'dev' },
    sender: { login: 'dev' },
    ...options.extra,
  };
}

/** Sends exact bytes with exact headers (node:http, so repeated header lines stay repeated). */
function send(method: string, path: string, body: Buffer | undefined, headers: Headers): Promise<Reply> {
  const url = new URL(path, service.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Json = {};
          try {
            parsed = JSON.parse(text) as Json;
          } catch {
            // not JSON: expectRefused fails on the missing code
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text, contentType: res.headers['content-type'] });
        });
      },
    );
    req.on('error', reject);
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    if (body !== undefined) req.setHeader('content-length', body.length);
    req.end(body);
  });
}

/** Every request in this file goes through here: no answer may be a 5xx. */
async function call(path: string, body: Buffer | undefined, headers: Headers): Promise<Reply> {
  const reply = await send('POST', path, body, headers);
  expect(reply.status, `POST ${path} answered ${reply.status}: ${reply.text}`).toBeLessThan(500);
  return reply;
}

/** Asserts a JSON `{code, message}` refusal whose message names the problem. */
function expectRefused(reply: Reply, status: number, code: string, message: RegExp, field?: string): void {
  // (toMatchObject would accept any string for a RegExp: vitest treats a RegExp as an object without keys)
  expect({ status: reply.status, code: reply.body.code }, reply.text).toEqual({ status, code });
  expect(reply.body.message, reply.text).toMatch(message);
  expect(reply.contentType).toMatch(/^application\/json/);
  if (field !== undefined) expect(reply.body.field).toBe(field);
}

/** Builds, recorded deliveries and queued jobs: a refused delivery changes none of them. */
async function footprint(): Promise<{ builds: number; deliveries: number; jobs: number }> {
  const count = async (table: string) =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  return {
    builds: await count('builds'),
    deliveries: await count('webhook_deliveries'),
    jobs: Object.values(counts).reduce((a, b) => a + b, 0),
  };
}

interface Delivery {
  path: string;
  body: Buffer;
  headers: Headers;
}

/** A genuine push delivery for `provider`'s project: signed with its secret over the exact bytes. */
function genuine(provider: WebhookProvider, options: PushOptions & { deliveryId?: string } = {}): Delivery {
  const body = Buffer.from(JSON.stringify(pushPayload(provider, options)));
  return {
    path: webhookPath(provider, projectName(provider)),
    body,
    headers: signWebhookBody(provider, body, SECRETS[provider], {
      event: PUSH_EVENT[provider],
      deliveryId: options.deliveryId ?? randomUUID(),
    }),
  };
}

/** Same as {@link genuine} but with `body` as the exact bytes (signed as they are). */
function signedBytes(provider: WebhookProvider, body: Buffer | string): Delivery {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return {
    path: webhookPath(provider, projectName(provider)),
    body: bytes,
    headers: signWebhookBody(provider, bytes, SECRETS[provider], {
      event: PUSH_EVENT[provider],
      deliveryId: randomUUID(),
    }),
  };
}

const without = (headers: Headers, ...names: string[]): Headers =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));
const hmacHex = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

beforeAll(async () => {
  api = await startApiUnderTest();
  ({ db, service, queue } = api);

  for (const provider of PROVIDERS) {
    const body = Buffer.from(
      JSON.stringify({
        name: projectName(provider),
        repository: REPOSITORY,
        allowedRefs: ['refs/heads/main'],
        webhook: { provider, secret: SECRETS[provider] },
      }),
    );
    const created = await send('POST', '/v1/projects', body, {
      authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
      'content-type': 'application/json',
    });
    expect(created.status, created.text).toBe(201);
  }
});

afterAll(async () => {
  await api?.close();
});

interface Case {
  name: string;
  /** the delivery to send, built when the case runs (fresh delivery id and commit) */
  delivery: () => Delivery;
  status: number;
  code: string;
  message: RegExp;
  field?: string;
}

/** Cases that apply to every provider, named after it. */
function perProvider(make: (provider: WebhookProvider) => Omit<Case, 'name'> & { name: string }): Case[] {
  return PROVIDERS.map((provider) => {
    const c = make(provider);
    return { ...c, name: `${provider}: ${c.name}` };
  });
}

const otherProvider = (provider: WebhookProvider): WebhookProvider =>
  provider === 'github' ? 'gitlab' : provider === 'gitlab' ? 'github' : provider === 'gitea' ? 'github' : 'gitlab';

const SIGNATURE_CASES: Case[] = [
  ...perProvider((provider) => ({
    name: 'signed with a wrong secret',
    delivery: () => {
      const d = genuine(provider);
      const headers = signWebhookBody(provider, d.body, 'not-the-secret-of-this-project', {
        event: PUSH_EVENT[provider],
        deliveryId: randomUUID(),
      });
      return { ...d, headers };
    },
    status: 401,
    code: 'SIGNATURE_INVALID',
    message: /does not match the delivery: wrong secret, or the body was changed/,
    field: SIGNATURE_HEADER[provider],
  })),
  ...perProvider((provider) => ({
    name: "signed with another project's secret",
    delivery: () => {
      const d = genuine(provider);
      const headers = signWebhookBody(provider, d.body, SECRETS[otherProvider(provider)], {
        event: PUSH_EVENT[provider],
        deliveryId: randomUUID(),
      });
      return { ...d, headers };
    },
    status: 401,
    code: 'SIGNATURE_INVALID',
    message: /does not match the delivery/,
    field: SIGNATURE_HEADER[provider],
  })),
  ...perProvider((provider) => ({
    name: 'signature header missing',
    delivery: () => {
      const d = genuine(provider);
      return { ...d, headers: without(d.headers, SIGNATURE_HEADER[provider], 'x-gitea-signature') };
    },
    status: 401,
    code: 'SIGNATURE_MISSING',
    // forgejo falls back to the Gitea header, so that is the one named as missing
    message: /header is missing or empty/,
    field: provider === 'forgejo' ? 'x-gitea-signature' : SIGNATURE_HEADER[provider],
  })),
  ...perProvider((provider) => ({
    name: 'signature header sent twice (two header lines)',
    delivery: () => {
      const d = genuine(provider);
      const value = d.headers[SIGNATURE_HEADER[provider]] as string;
      return { ...d, headers: { ...d.headers, [SIGNATURE_HEADER[provider]]: [value, value] } };
    },
    // GitLab tokens may contain ", ", so the joined value is compared (and does not match)
    ...(provider === 'gitlab'
      ? { status: 401, code: 'SIGNATURE_INVALID', message: /x-gitlab-token does not match/ }
      : { status: 401, code: 'SIGNATURE_MISSING', message: /is repeated: a delivery must carry exactly one/ }),
    field: SIGNATURE_HEADER[provider],
  })),
  // One byte of the body changed after signing: the commit to build, the one an attacker would swap.
  ...perProvider((provider) => ({
    name: 'signature of a different body (one byte of after changed)',
    delivery: () => {
      const after = SHA(`one-byte-${randomUUID()}`);
      const signed = genuine(provider, { after });
      const flipped = after.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
      const body = Buffer.from(signed.body.toString('utf8').split(after).join(flipped));
      expect(body.length).toBe(signed.body.length);
      if (provider === 'gitlab') {
        // The GitLab token does not cover the body; its HMAC signature (webhook-signature) does.
        const timestamp = Math.floor(Date.now() / 1000);
        const headers = signWebhookBody('gitlab', signed.body, SECRETS.gitlab, {
          event: PUSH_EVENT.gitlab,
          deliveryId: randomUUID(),
          gitlabSignature: { webhookId: `msg_${randomUUID()}`, timestamp },
        });
        return { ...signed, body, headers };
      }
      return { ...signed, body };
    },
    status: 401,
    code: 'SIGNATURE_INVALID',
    message: /does not match the delivery/,
    field: provider === 'gitlab' ? 'webhook-signature' : SIGNATURE_HEADER[provider],
  })),
  ...[
    ['not hex', () => `sha256=${'z'.repeat(64)}`, /64 hex digits of HMAC-SHA256 \(got 64 characters\)/],
    ['too short (63 hex)', (d: Delivery) => `sha256=${hmacHex(SECRETS.github, d.body).slice(0, 63)}`, /got 63/],
    ['too long (65 hex)', (d: Delivery) => `sha256=${hmacHex(SECRETS.github, d.body)}0`, /got 65/],
    ['empty after sha256=', () => 'sha256=', /got 0 characters/],
    ['upper-case garbage after sha256=', () => `sha256=${'DEADBEEFXYZ'.repeat(6)}ABCD`, /64 hex digits/],
    ['sha1= prefix only', () => 'sha1=', /must start with "sha256="/],
    [
      'a sha1= HMAC in the sha256 header',
      (d: Delivery) => `sha1=${createHmac('sha1', SECRETS.github).update(d.body).digest('hex')}`,
      /must start with "sha256="/,
    ],
    ['the bare hex without sha256=', (d: Delivery) => hmacHex(SECRETS.github, d.body), /must start with "sha256="/],
  ].map(([why, value, message]): Case => ({
    name: `github: malformed x-hub-signature-256, ${why as string}`,
    delivery: () => {
      const d = genuine('github');
      return { ...d, headers: { ...d.headers, 'x-hub-signature-256': (value as (d: Delivery) => string)(d) } };
    },
    status: 401,
    code: 'SIGNATURE_MALFORMED',
    message: message as RegExp,
    field: 'x-hub-signature-256',
  })),
  {
    name: 'github: only the legacy sha1 X-Hub-Signature (correct HMAC-SHA1)',
    delivery: () => {
      const d = genuine('github');
      const sha1 = createHmac('sha1', SECRETS.github).update(d.body).digest('hex');
      return { ...d, headers: { ...without(d.headers, 'x-hub-signature-256'), 'x-hub-signature': `sha1=${sha1}` } };
    },
    status: 401,
    code: 'SIGNATURE_MISSING',
    message: /only the legacy SHA-1 x-hub-signature header was sent; sha256 is required/,
    field: 'x-hub-signature-256',
  },
  {
    name: 'github: two different signature lines (a valid one and a forged one)',
    delivery: () => {
      const d = genuine('github');
      const forged = `sha256=${hmacHex('forged', d.body)}`;
      return {
        ...d,
        headers: { ...d.headers, 'x-hub-signature-256': [forged, d.headers['x-hub-signature-256'] as string] },
      };
    },
    status: 401,
    code: 'SIGNATURE_MISSING',
    message: /is repeated/,
    field: 'x-hub-signature-256',
  },
  {
    name: 'github: the signature in the Gitea header instead',
    delivery: () => {
      const d = genuine('github');
      return {
        ...d,
        headers: { ...without(d.headers, 'x-hub-signature-256'), 'x-gitea-signature': hmacHex(SECRETS.github, d.body) },
      };
    },
    status: 401,
    code: 'SIGNATURE_MISSING',
    message: /x-hub-signature-256 header is missing/,
    field: 'x-hub-signature-256',
  },
  {
    name: 'gitea: sha256= prefix (Gitea sends bare hex)',
    delivery: () => {
      const d = genuine('gitea');
      return { ...d, headers: { ...d.headers, 'x-gitea-signature': `sha256=${hmacHex(SECRETS.gitea, d.body)}` } };
    },
    status: 401,
    code: 'SIGNATURE_MALFORMED',
    message: /x-gitea-signature must carry 64 hex digits/,
    field: 'x-gitea-signature',
  },
  {
    name: 'forgejo: a wrong X-Forgejo-Signature is not rescued by a correct X-Gitea-Signature',
    delivery: () => {
      const d = genuine('forgejo');
      return { ...d, headers: { ...d.headers, 'x-forgejo-signature': hmacHex('wrong-secret', d.body) } };
    },
    status: 401,
    code: 'SIGNATURE_INVALID',
    message: /x-forgejo-signature does not match/,
    field: 'x-forgejo-signature',
  },
  {
    name: 'gitlab: token of the right length differing in case',
    delivery: () => {
      const d = genuine('gitlab');
      return { ...d, headers: { ...d.headers, 'x-gitlab-token': SECRETS.gitlab.toUpperCase() } };
    },
    status: 401,
    code: 'SIGNATURE_INVALID',
    message: /x-gitlab-token does not match/,
    field: 'x-gitlab-token',
  },
  {
    name: 'gitlab: empty token',
    delivery: () => {
      const d = genuine('gitlab');
      return { ...d, headers: { ...d.headers, 'x-gitlab-token': '' } };
    },
    status: 401,
    code: 'SIGNATURE_MISSING',
    message: /x-gitlab-token header is missing or empty/,
    field: 'x-gitlab-token',
  },
  {
    name: 'gitlab: a valid webhook-signature with a stale timestamp (replayed after 10 minutes)',
    delivery: () => {
      const d = genuine('gitlab');
      const headers = signWebhookBody('gitlab', d.body, SECRETS.gitlab, {
        event: PUSH_EVENT.gitlab,
        deliveryId: randomUUID(),
        gitlabSignature: { webhookId: `msg_${randomUUID()}`, timestamp: Math.floor(Date.now() / 1000) - 600 },
      });
      return { ...d, headers };
    },
    status: 401,
    code: 'TIMESTAMP_OUT_OF_RANGE',
    message: /webhook-timestamp is more than 300 s away/,
    field: 'webhook-timestamp',
  },
  {
    name: 'gitlab: webhook-signature that is not base64 of 32 bytes',
    delivery: () => {
      const d = genuine('gitlab');
      const headers = signWebhookBody('gitlab', d.body, SECRETS.gitlab, {
        event: PUSH_EVENT.gitlab,
        deliveryId: randomUUID(),
        gitlabSignature: { webhookId: `msg_${randomUUID()}`, timestamp: Math.floor(Date.now() / 1000) },
      });
      return { ...d, headers: { ...headers, 'webhook-signature': 'v1,not-base64!' } };
    },
    status: 401,
    code: 'SIGNATURE_MALFORMED',
    message: /webhook-signature entries must be v1,<base64 of 32 bytes>/,
    field: 'webhook-signature',
  },
];

const BODY_CASES: Case[] = [
  ...perProvider((provider) => ({
    name: 'truncated JSON (signed)',
    delivery: () => {
      const json = genuine(provider).body;
      return signedBytes(provider, json.subarray(0, Math.floor(json.length / 2)));
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /^body is not valid JSON/,
    field: 'body',
  })),
  ...perProvider((provider) => ({
    name: 'a JSON array (signed)',
    delivery: () => signedBytes(provider, JSON.stringify([pushPayload(provider)])),
    status: 400,
    code: 'BODY_NOT_JSON',
    message: /body must be a JSON object, got an array/,
    field: '(body)',
  })),
  {
    name: 'github: not JSON at all (signed)',
    delivery: () => signedBytes('github', 'hello world'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /^body is not valid JSON/,
    field: 'body',
  },
  {
    name: 'github: a form payload sent as application/json (signed)',
    delivery: () => signedBytes('github', `payload=${encodeURIComponent(JSON.stringify(pushPayload('github')))}`),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /^body is not valid JSON/,
    field: 'body',
  },
  ...['null', '42', '"refs/heads/main"'].map((json): Case => ({
    name: `github: JSON ${json} (signed)`,
    delivery: () => signedBytes('github', json),
    status: 400,
    code: 'BODY_NOT_JSON',
    message: /body must be a JSON object, got/,
    field: '(body)',
  })),
  {
    name: 'github: empty body (signed)',
    delivery: () => signedBytes('github', ''),
    status: 400,
    code: 'BODY_NOT_JSON',
    message: /body is not valid JSON \(empty\)/,
    field: '(body)',
  },
  {
    name: 'github: Content-Type text/plain (signed)',
    delivery: () => {
      const d = genuine('github');
      return { ...d, headers: { ...d.headers, 'content-type': 'text/plain' } };
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /webhook deliveries must be application\/json \(set the webhook content type to JSON\)/,
  },
  ...perProvider((provider) => ({
    name: 'form-encoded payload (application/x-www-form-urlencoded, signed)',
    delivery: () => {
      const form = Buffer.from(`payload=${encodeURIComponent(JSON.stringify(pushPayload(provider)))}`);
      const d = signedBytes(provider, form);
      return { ...d, headers: { ...d.headers, 'content-type': 'application/x-www-form-urlencoded' } };
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /must be application\/json/,
  })),
  {
    name: 'github: no Content-Type (signed)',
    delivery: () => {
      const d = genuine('github');
      return { ...d, headers: without(d.headers, 'content-type') };
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /must be application\/json/,
  },
  ...perProvider((provider) => ({
    name: 'body over 1 MB (signed)',
    delivery: () =>
      signedBytes(provider, JSON.stringify(pushPayload(provider, { extra: { padding: 'x'.repeat(1_100_000) } }))),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /larger than the 1 MB limit/,
  })),
];

const ROUTING_CASES: Case[] = [
  ...perProvider((provider) => ({
    name: 'unknown project',
    delivery: () => ({ ...genuine(provider), path: webhookPath(provider, 'no-such-project') }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no project 'no-such-project' with a webhook/,
  })),
  ...['bitbucket', 'GitHub', 'gogs'].map((name): Case => ({
    name: `unknown provider ${name}`,
    delivery: () => ({ ...genuine('github'), path: webhookPath(name, projectName('github')) }),
    status: 404,
    code: 'UNKNOWN_PROVIDER',
    message: /unknown webhook provider .*: expected one of github, gitlab, gitea, forgejo/,
    field: 'provider',
  })),
  ...perProvider((provider) => ({
    name: "a provider that is not the project's",
    delivery: () => {
      const wrong = otherProvider(provider);
      const d = genuine(wrong);
      return { ...d, path: webhookPath(wrong, projectName(provider)) };
    },
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(
      `project '${projectName(provider)}' receives ${provider} webhooks, not ${otherProvider(provider)}`,
    ),
  })),
  {
    name: 'a project name with a NUL byte (PostgreSQL cannot even compare it)',
    delivery: () => ({ ...genuine('github'), path: webhookPath('github', 'wallet%00github') }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no project 'wallet.github' with a webhook/,
  },
  {
    name: 'a project name that is not valid percent-encoding',
    delivery: () => ({ ...genuine('github'), path: webhookPath('github', 'wallet%FF') }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /Failed to decode param/,
  },
  {
    name: 'a project name with upper-case letters (names are lower case)',
    delivery: () => ({ ...genuine('github'), path: webhookPath('github', 'Wallet-GitHub') }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no project 'Wallet-GitHub' with a webhook/,
  },
];

const PAYLOAD_CASES: Case[] = [
  ...perProvider((provider) => ({
    name: 'payload names another repository (signed correctly)',
    delivery: () => genuine(provider, { repository: OTHER_REPOSITORY }),
    status: 400,
    code: 'VALIDATION_FAILED',
    message:
      /^repository: the payload names attacker\/wallet, not this project's https:\/\/git\.example\.com\/org\/wallet\.git/,
    field: 'repository',
  })),
  {
    name: 'github: payload names the same path on another host',
    delivery: () => genuine('github', { repository: 'https://evil.example.net/org/wallet.git' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /^repository: /,
    field: 'repository',
  },
  ...perProvider((provider) => ({
    name: 'ref is an option (--upload-pack=touch /tmp/pwned)',
    delivery: () => genuine(provider, { ref: '--upload-pack=touch /tmp/pwned' }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field ref: .*starts with "-" and could be read as an option/,
    field: 'ref',
  })),
  ...perProvider((provider) => ({
    name: 'ref with an option-like component (refs/heads/--upload-pack=x)',
    delivery: () => genuine(provider, { ref: 'refs/heads/--upload-pack=x' }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field ref: .*path component starting with "." or "-"/,
    field: 'ref',
  })),
  ...perProvider((provider) => ({
    name: "ref not fully qualified ('main')",
    delivery: () => genuine(provider, { ref: 'main' }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field ref: .*must be a full branch or tag ref/,
    field: 'ref',
  })),
  {
    name: 'github: ref with dot-dot (refs/heads/../../config)',
    delivery: () => genuine('github', { ref: 'refs/heads/../../config' }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field ref: /,
    field: 'ref',
  },
  ...perProvider((provider) => ({
    name: 'abbreviated SHA in after',
    delivery: () => genuine(provider, { after: '4f2c1b0' }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field after: abbreviated commit id/,
    field: 'after',
  })),
  ...perProvider((provider) => ({
    name: 'after is not hex',
    delivery: () => genuine(provider, { after: 'z'.repeat(40) }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field after: a ref is not a commit pin/,
    field: 'after',
  })),
  {
    name: 'github: after is an option',
    delivery: () => genuine('github', { after: '--upload-pack=touch /tmp/pwned' }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field after: /,
    field: 'after',
  },
  {
    name: 'gitlab: abbreviated checkout_sha',
    delivery: () => genuine('gitlab', { extra: { checkout_sha: '4f2c1b0' } }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field checkout_sha: abbreviated commit id/,
    field: 'checkout_sha',
  },
  {
    name: 'github: repository missing',
    delivery: () => genuine('github', { extra: { repository: undefined } }),
    status: 400,
    code: 'PAYLOAD_INVALID',
    message: /push payload field repository: is required/,
    field: 'repository',
  },
];

const HEADER_CASES: Case[] = [
  ...perProvider((provider) => ({
    name: 'delivery id header missing',
    delivery: () => {
      const d = genuine(provider);
      const ids = ['x-github-delivery', 'x-gitea-delivery', 'x-forgejo-delivery', 'idempotency-key'];
      return { ...d, headers: without(d.headers, ...ids, 'x-gitlab-event-uuid', 'x-gitlab-webhook-uuid') };
    },
    status: 400,
    code: 'DELIVERY_ID_MISSING',
    message: /delivery id header is missing/,
    field: DELIVERY_HEADER[provider],
  })),
  ...['../../etc/passwd', 'id with spaces', 'id"quote', 'd\u00e9livery', 'a'.repeat(129)].map((id): Case => ({
    name: `github: delivery id with illegal characters (${id.slice(0, 20)})`,
    delivery: () => {
      const d = genuine('github');
      return { ...d, headers: { ...d.headers, 'x-github-delivery': id } };
    },
    status: 400,
    code: 'DELIVERY_ID_INVALID',
    message: /x-github-delivery must be 1-128 characters of \[A-Za-z0-9._:-\]/,
    field: 'x-github-delivery',
  })),
  {
    name: 'github: delivery id header sent twice',
    delivery: () => {
      const d = genuine('github');
      return { ...d, headers: { ...d.headers, 'x-github-delivery': [randomUUID(), randomUUID()] } };
    },
    status: 400,
    code: 'DELIVERY_ID_INVALID',
    message: /x-github-delivery header is repeated/,
    field: 'x-github-delivery',
  },
  ...perProvider((provider) => ({
    name: 'event header missing',
    delivery: () => {
      const d = genuine(provider);
      return { ...d, headers: without(d.headers, EVENT_HEADER[provider], 'x-gitea-event') };
    },
    status: 400,
    code: 'EVENT_MISSING',
    message: /event header is missing/,
    field: provider === 'forgejo' ? 'x-forgejo-event' : EVENT_HEADER[provider],
  })),
  {
    name: 'github: event header that is not an event name',
    delivery: () => {
      const d = genuine('github');
      return { ...d, headers: { ...d.headers, 'x-github-event': 'push;rm -rf' } };
    },
    status: 400,
    code: 'EVENT_MISSING',
    message: /x-github-event is not an event name/,
    field: 'x-github-event',
  },
];

describe('webhook deliveries that must start nothing', () => {
  it('the table is not refusing everything: a genuine delivery per provider builds', async () => {
    for (const provider of PROVIDERS) {
      const before = await footprint();
      const d = genuine(provider);
      const reply = await call(d.path, d.body, d.headers);
      expect(reply.status, reply.text).toBe(202);
      expect(reply.body).toMatchObject({ outcome: 'build', buildId: expect.any(String) });
      expect(await footprint()).toEqual({
        builds: before.builds + 1,
        deliveries: before.deliveries + 1,
        jobs: before.jobs + 1,
      });
    }
  });

  describe.each([
    ['forged or mangled signatures', SIGNATURE_CASES],
    ['bodies that are not a JSON object push', BODY_CASES],
    ['unknown projects and providers', ROUTING_CASES],
    ['push payloads that must not be built', PAYLOAD_CASES],
    ['missing or malformed delivery headers', HEADER_CASES],
  ])('%s', (_group, cases) => {
    it.each(cases)('$name → $status $code', async (c) => {
      const before = await footprint();
      const d = c.delivery();
      const reply = await call(d.path, d.body, d.headers);
      expectRefused(reply, c.status, c.code, c.message, c.field);
      for (const secret of Object.values(SECRETS)) expect(reply.text).not.toContain(secret);
      expect(await footprint()).toEqual(before);
    });
  });

  it('a refused delivery does not claim its delivery id: the genuine one with that id still builds', async () => {
    const deliveryId = randomUUID();
    const real = genuine('github', { deliveryId });
    const forged = signWebhookBody('github', real.body, 'guessed-secret', { event: 'push', deliveryId });
    expectRefused(await call(real.path, real.body, forged), 401, 'SIGNATURE_INVALID', /does not match/);
    const broken = genuine('github', { deliveryId, ref: 'main' });
    expectRefused(await call(broken.path, broken.body, broken.headers), 400, 'PAYLOAD_INVALID', /ref/);

    const before = await footprint();
    const reply = await call(real.path, real.body, real.headers);
    expect(reply.status, reply.text).toBe(202);
    expect(reply.body).toMatchObject({ deliveryId, outcome: 'build' });
    expect(await footprint()).toEqual({
      builds: before.builds + 1,
      deliveries: before.deliveries + 1,
      jobs: before.jobs + 1,
    });
  });
});

describe('replayed deliveries', () => {
  it.each(PROVIDERS)('%s: the same delivery again → 200 with the same build, nothing new', async (provider) => {
    const deliveryId = randomUUID();
    const d = genuine(provider, { deliveryId });
    const before = await footprint();
    const first = await call(d.path, d.body, d.headers);
    expect(first.status, first.text).toBe(202);
    const buildId = first.body.buildId as string;
    expect(buildId).toEqual(expect.any(String));
    const afterFirst = await footprint();
    expect(afterFirst).toEqual({ builds: before.builds + 1, deliveries: before.deliveries + 1, jobs: before.jobs + 1 });

    for (let i = 0; i < 3; i++) {
      const replay = await call(d.path, d.body, d.headers);
      expect({ status: replay.status, body: replay.body }, replay.text).toEqual({
        status: 200,
        body: { deliveryId, outcome: 'build', buildId, duplicate: true },
      });
    }
    expect(await footprint()).toEqual(afterFirst);
  });

  it.each(PROVIDERS)(
    '%s: another body (another commit) under a used delivery id → 200 with the original build, nothing new',
    async (provider) => {
      const deliveryId = randomUUID();
      const original = SHA(`original-${deliveryId}`);
      const first = genuine(provider, { deliveryId, after: original });
      const accepted = await call(first.path, first.body, first.headers);
      expect(accepted.status, accepted.text).toBe(202);
      const buildId = accepted.body.buildId as string;
      const before = await footprint();

      // Correctly signed, so only the delivery id makes it a replay.
      const second = genuine(provider, { deliveryId, after: SHA(`substituted-${deliveryId}`) });
      const replay = await call(second.path, second.body, second.headers);
      expect({ status: replay.status, body: replay.body }, replay.text).toEqual({
        status: 200,
        body: { deliveryId, outcome: 'build', buildId, duplicate: true },
      });
      expect(await footprint()).toEqual(before);
      const stored = await db.query<{ commit_sha: string }>('SELECT commit_sha FROM builds WHERE id = $1', [buildId]);
      expect(stored.rows).toEqual([{ commit_sha: original }]);
      const job = await queue.getJob(`build-run-${buildId}`);
      expect(job?.data).toMatchObject({ buildId, commit: original, repository: REPOSITORY });
    },
  );

  it('concurrent copies of one delivery create one build and one job', async () => {
    const deliveryId = randomUUID();
    const d = genuine('github', { deliveryId });
    const before = await footprint();
    const replies = await Promise.all(Array.from({ length: 8 }, () => call(d.path, d.body, d.headers)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    expect(new Set(replies.map((r) => r.body.buildId)).size).toBe(1);
    expect(await footprint()).toEqual({
      builds: before.builds + 1,
      deliveries: before.deliveries + 1,
      jobs: before.jobs + 1,
    });
  });

  it('a replay of an ignored delivery stays ignored', async () => {
    const deliveryId = randomUUID();
    const d = genuine('github', { deliveryId, ref: 'refs/heads/feature' });
    const first = await call(d.path, d.body, d.headers);
    expect(first.status, first.text).toBe(202);
    expect(first.body).toMatchObject({
      outcome: 'ignored',
      buildId: null,
      reason: expect.stringMatching(/not among the project's allowed refs/),
    });
    const before = await footprint();
    const replay = await call(d.path, d.body, d.headers);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ outcome: 'ignored', buildId: null, duplicate: true });
    expect(await footprint()).toEqual(before);
  });
});
