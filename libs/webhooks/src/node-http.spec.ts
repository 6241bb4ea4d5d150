import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseWebhookDelivery } from './delivery';
import type { IncomingHeaders } from './headers';
import { signWebhookBody } from './sign-webhook';
import { verifyWebhookSignature } from './verify-signature';
import { WebhookError } from './webhook-error';

const SECRET = 'node-http-spec-secret';
const BODY = Buffer.from(
  JSON.stringify({
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    repository: { id: 1, full_name: 'org/app', clone_url: 'https://git.example.com/org/app.git' },
  }),
);

/** Outcome of handing a real Node request to the lib, as the API controller would. */
type Outcome = { ok: true; kind: string; deliveryId: string } | { ok: false; code: string; field?: unknown };

let server: Server;
let port: number;

function handle(req: IncomingMessage, rawBody: Buffer): Outcome {
  // Compile-time check: Node's req.headers is an IncomingHeaders.
  const headers: IncomingHeaders = req.headers;
  try {
    verifyWebhookSignature('github', headers, rawBody, SECRET);
    const delivery = parseWebhookDelivery('github', headers, rawBody);
    return { ok: true, kind: delivery.kind, deliveryId: delivery.deliveryId };
  } catch (error) {
    if (error instanceof WebhookError) return { ok: false, code: error.code, field: error.details?.field };
    throw error;
  }
}

/** Sends the headers (an array value is sent as that many repeated header lines) and returns the verdict. */
function post(headers: Record<string, string | string[]>, body: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/webhooks/github' });
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    req.setHeader('Content-Length', String(body.length));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Outcome));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(handle(req, Buffer.concat(chunks))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('with real Node requests (req.headers)', () => {
  const signed = signWebhookBody('github', BODY, SECRET, { event: 'push', deliveryId: 'node-1' });
  /** GitHub's spelling of the header names; Node lower-cases them on the way in. */
  const asSent = (headers: Record<string, string>): Record<string, string | string[]> =>
    Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [
        name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()),
        value,
      ]),
    );

  it('accepts a signed push sent with canonical header capitalisation', async () => {
    expect(await post(asSent(signed), BODY)).toEqual({ ok: true, kind: 'push', deliveryId: 'node-1' });
  });

  it('refuses a repeated X-Hub-Signature-256 that Node joins into one value', async () => {
    const sig = signed['x-hub-signature-256'];
    const headers = { ...asSent(signed), 'X-Hub-Signature-256': [sig, sig] };
    expect(await post(headers, BODY)).toEqual({ ok: false, code: 'SIGNATURE_MISSING', field: 'x-hub-signature-256' });
  });

  it('refuses a repeated X-GitHub-Delivery', async () => {
    const headers = { ...asSent(signed), 'X-Github-Delivery': ['node-1', 'node-2'] };
    expect(await post(headers, BODY)).toEqual({ ok: false, code: 'DELIVERY_ID_INVALID', field: 'x-github-delivery' });
  });

  it('refuses a body changed in transit', async () => {
    const changed = Buffer.from(BODY.toString('utf8').replace('org/app', 'org/apq'));
    expect(await post(asSent(signed), changed)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
  });
});
