import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseWebhookDelivery } from './delivery';
import type { WebhookDelivery } from './delivery.types';
import { repositoryMatches } from './repository-url';
import { signWebhookBody } from './sign-webhook';
import { verifyWebhookSignature } from './verify-signature';
import { WebhookError } from './webhook-error';

/** Real GitHub bodies (octokit/webhooks payload examples), a sibling of the repository checkout. */
const TESTDATA_DIR = resolve(__dirname, '../../../../shared/testdata/webhooks/github');
const hasTestdata = existsSync(join(TESTDATA_DIR, 'push-payload.json'));
if (!hasTestdata) console.warn(`[webhooks/github-payloads] SKIPPED: real GitHub payloads not found at ${TESTDATA_DIR}`);

const SECRET = 'github-payloads-spec-secret';
const DELIVERY_ID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

/** Signs the file's exact bytes, verifies them, then parses: what the API does with a delivery. */
function deliverFile(name: string, event: string): WebhookDelivery {
  const raw = readFileSync(join(TESTDATA_DIR, name));
  const headers = signWebhookBody('github', raw, SECRET, { event, deliveryId: DELIVERY_ID });
  verifyWebhookSignature('github', headers, raw, SECRET);
  return parseWebhookDelivery('github', headers, raw);
}

describe.skipIf(!hasTestdata)('real GitHub payloads', () => {
  it('push-with-new-branch: a build-worthy push of refs/heads/master', () => {
    const delivery = deliverFile('push-with-new-branch.payload.json', 'push');
    expect(delivery).toEqual({
      provider: 'github',
      deliveryId: DELIVERY_ID,
      eventName: 'push',
      kind: 'push',
      push: {
        ref: 'refs/heads/master',
        before: '0'.repeat(40),
        after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        deleted: false,
        refType: 'branch',
        repository: {
          cloneUrls: [
            'https://github.com/Codertocat/Hello-World.git',
            'git@github.com:Codertocat/Hello-World.git',
            'https://github.com/Codertocat/Hello-World',
            'git://github.com/Codertocat/Hello-World.git',
          ],
          fullName: 'Codertocat/Hello-World',
          id: 186853002,
        },
        pusher: 'Codertocat',
        headCommit: {
          id: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
          timestamp: '2019-05-15T15:19:25Z',
          message: 'Initial commit',
        },
      },
    });
    expect(repositoryMatches('https://github.com/codertocat/hello-world', delivery.push!)).toBe(true);
    expect(repositoryMatches('https://github.com/Codertocat/Hello-World-evil', delivery.push!)).toBe(false);
  });

  it('push-with-no-username-committer: parses the same commit', () => {
    const { kind, push } = deliverFile('push-with-no-username-committer.payload.json', 'push');
    expect(kind).toBe('push');
    expect(push).toMatchObject({
      ref: 'refs/heads/master',
      after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      deleted: false,
    });
  });

  it.each(['push-payload.json', 'push-with-organization.payload.json'])('%s: a tag deletion, build nothing', (name) => {
    const { kind, push } = deliverFile(name, 'push');
    expect(kind).toBe('push');
    expect(push).toMatchObject({ ref: 'refs/tags/simple-tag', refType: 'tag', deleted: true, after: '0'.repeat(40) });
    expect(push?.headCommit).toBeUndefined();
  });

  it('ping-payload: kind ping, no push', () => {
    expect(deliverFile('ping-payload.json', 'ping')).toEqual({
      provider: 'github',
      deliveryId: DELIVERY_ID,
      eventName: 'ping',
      kind: 'ping',
    });
  });

  it('refuses a real body changed by one byte after signing', () => {
    const raw = readFileSync(join(TESTDATA_DIR, 'push-with-new-branch.payload.json'));
    const headers = signWebhookBody('github', raw, SECRET, { event: 'push', deliveryId: DELIVERY_ID });
    const tampered = Buffer.from(raw.toString('utf8').replace('6113728f', '6113728e'));
    expect(tampered.length).toBe(raw.length);
    expect(() => verifyWebhookSignature('github', headers, tampered, SECRET)).toThrow(WebhookError);
  });

  it('accepts a body rewritten to point at a local repository once re-signed', () => {
    const body = JSON.parse(readFileSync(join(TESTDATA_DIR, 'push-with-new-branch.payload.json'), 'utf8'));
    body.repository.clone_url = 'http://127.0.0.1:3000/org/app.git';
    body.after = 'c'.repeat(40);
    const raw = Buffer.from(JSON.stringify(body));
    const headers = signWebhookBody('github', raw, SECRET, { event: 'push', deliveryId: DELIVERY_ID });
    verifyWebhookSignature('github', headers, raw, SECRET);
    const { push } = parseWebhookDelivery('github', headers, raw);
    expect(push?.after).toBe('c'.repeat(40));
    expect(repositoryMatches('http://127.0.0.1:3000/org/app', push!)).toBe(true);
  });
});
