import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createSeEvidenceProvider,
  createSimulatedSeGuest,
  parseSeHeader,
  SimulatedSeGuest,
} from '@secure-build/attestation';
import { establishBuilderIdentity } from '@secure-build/build';
import { assessBuilderEvidence, parseBuilderPolicy } from '@secure-build/provenance';
import { HttpSeVerifierClient } from '@secure-build/service';
import { createThrowawayDatabase, ThrowawayDatabase } from '@secure-build/store';

import { api, serviceEnv, ServiceProcess, startService, TEST_ADMIN_TOKEN } from './support/service-harness';

const HEADER = resolve(__dirname, '../../shared/testdata/se/secure_guest.hdr');
const hasHeader = existsSync(HEADER);
if (!hasHeader) console.warn(`[SE attestation e2e] SKIPPED: SE header test data not found at ${HEADER}`);

describe.skipIf(!hasHeader)('IBM SE attestation service over HTTP', () => {
  let db: ThrowawayDatabase;
  let service: ServiceProcess;
  let guest: SimulatedSeGuest;
  let token: string;
  let readOnly: string;

  beforeAll(async () => {
    db = await createThrowawayDatabase();
    guest = createSimulatedSeGuest({ header: parseSeHeader(readFileSync(HEADER)) });
    const dir = mkdtempSync(join(tmpdir(), 'sb-se-'));
    writeFileSync(join(dir, 'host.pem'), guest.hostPublicKey.export({ type: 'spki', format: 'pem' }));
    const verifier = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writeFileSync(join(dir, 'verifier.pem'), verifier.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    service = await startService(
      'api',
      serviceEnv({
        DATABASE_URL: db.url,
        SECURE_BUILD_SE_HOST_KEYS: join(dir, 'host.pem'),
        SECURE_BUILD_SE_HEADER: HEADER,
        SECURE_BUILD_SE_VERIFIER_KEY: join(dir, 'verifier.pem'),
      }),
    );
    const mint = async (scopes: string[]) =>
      (
        await api<{ token: string }>(service.url, 'POST', '/v1/tokens', {
          token: TEST_ADMIN_TOKEN,
          body: { name: scopes.join('+'), scopes },
        })
      ).body.token;
    token = await mint(['attestation:write']);
    readOnly = await mint(['builds:read']);
  });

  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  it('attests a worker key end to end, and auditors accept the signed result with the published verifier key', async () => {
    const performer = { perform: async (request: Buffer, userData: Buffer) => guest.perform(request, userData) };
    const identity = await establishBuilderIdentity(
      createSeEvidenceProvider({ client: new HttpSeVerifierClient(service.url, token), performer, simulated: false }),
    );
    expect(identity.tee).toBe('ibm-se');
    const { body } = await api<{ pem: string }>(service.url, 'GET', '/v1/attestation/se/verifier-key');
    const policy = parseBuilderPolicy(
      `se:\n  verifierKeys: [${JSON.stringify(body.pem)}]\n  imageTags: ["${guest.header.tag.toString('hex')}"]\n  hostKeyHashes: ["${guest.hostKeyHash.toString('hex')}"]\n`,
    );
    const verdict = assessBuilderEvidence({
      evidence: identity.evidence,
      signingKeySpkiDer: identity.key.spkiDer,
      policy,
      now: new Date(),
    });
    expect(verdict).toMatchObject({ trusted: true, tee: 'ibm-se', failed: [] });
  });

  it('guards the endpoints: token and scope, single-use requests, bad answers', async () => {
    expect((await api(service.url, 'POST', '/v1/attestation/se/requests', { body: {} })).status).toBe(401);
    expect((await api(service.url, 'POST', '/v1/attestation/se/requests', { token: readOnly, body: {} })).status).toBe(
      403,
    );
    const { body: request } = await api<{ id: string; request: string }>(
      service.url,
      'POST',
      '/v1/attestation/se/requests',
      { token, body: {} },
    );
    const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    const garbage = await api<{ code: string; message: string }>(
      service.url,
      'POST',
      `/v1/attestation/se/requests/${request.id}/response`,
      {
        token,
        body: { response: Buffer.alloc(100).toString('base64'), signingKeySpki: spki },
      },
    );
    expect(garbage.status).toBe(403);
    expect(garbage.body.message).toMatch(/SE attestation failed/);
    const replay = await api(service.url, 'POST', `/v1/attestation/se/requests/${request.id}/response`, {
      token,
      body: { response: 'AAAA', signingKeySpki: spki },
    });
    expect(replay.status).toBe(404);
    const missing = await api<{ field: string }>(
      service.url,
      'POST',
      `/v1/attestation/se/requests/${request.id}/response`,
      { token, body: { signingKeySpki: spki } },
    );
    expect(missing).toMatchObject({ status: 400, body: { field: 'response' } });
  });
});
