import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import {
  computeTeeBinding,
  createSeEvidenceProvider,
  createSimulatedSeGuest,
  SimulatedSeGuest,
} from '@secure-build/attestation';
import { BuilderIdentity, establishBuilderIdentity, runSecureBuild } from '@secure-build/build';
import { generateBuilderSigningKey, parsePolicy, verifyProvenanceBundle } from '@secure-build/provenance';

import { SecretBox } from '../secrets/secret-box';
import { openTestStore } from '../testing/service-fixture';
import { SeAttestationService } from './se-attestation.service';
import { SealedSeRequestStore } from './se-request-store';

describe(SeAttestationService.name, () => {
  let guest: SimulatedSeGuest;
  let service: SeAttestationService;
  const performer = () => ({ perform: async (request: Buffer, userData: Buffer) => guest.perform(request, userData) });

  beforeAll(() => {
    guest = createSimulatedSeGuest();
    service = new SeAttestationService({
      hostKeys: [guest.hostPublicKey],
      header: guest.header,
      signingKey: generateBuilderSigningKey(),
      verifierId: 'https://build.example.com/v1/attestation/se',
      simulated: true,
    });
  });

  it('runs a build whose provenance carries the signed SE result, verified offline with the pinned verifier key', async () => {
    const identity: BuilderIdentity = await establishBuilderIdentity(
      createSeEvidenceProvider({ client: service, performer: performer(), simulated: true }),
    );
    expect(identity.tee).toBe('simulated-ibm-se');
    const repo = mkdtempSync(join(tmpdir(), 'sb-se-repo-'));
    const env = {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@e',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e',
    };
    execFileSync('git', ['init', '-q', repo], { env });
    writeFileSync(
      join(repo, 'securebuild.yaml'),
      'apiVersion: securebuild/v1\nbuild:\n  run: "mkdir -p out && echo se > out/x"\n  outputs:\n    - { from: out, to: /app }\nimage:\n  base: scratch\n',
    );
    execFileSync('git', ['-C', repo, 'add', '-A'], { env });
    execFileSync('git', ['-C', repo, 'commit', '-qm', 'x'], { env });
    const commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { env, encoding: 'utf8' }).trim();
    const work = mkdtempSync(join(tmpdir(), 'sb-se-work-'));
    chmodSync(work, 0o711);
    const result = await runSecureBuild({
      repository: repo,
      commit,
      outDir: join(work, 'out'),
      allowLocalRepo: true,
      rebuild: false,
      identity,
      builderVersion: { 'secure-build': 'test' },
      workRoot: work,
    });

    const tag = guest.header.tag.toString('hex');
    const base = `allowSimulated: true\nrequireReproducible: false\nrepositories: ["file://${repo}"]\n`;
    const pinned = parsePolicy(
      `${base}se:\n  verifierKeys: [${JSON.stringify(service.verifierKeyPem)}]\n  imageTags: ["${tag}"]\n  hostKeyHashes: ["${guest.hostKeyHash.toString('hex')}"]\n`,
    );
    const report = verifyProvenanceBundle(result.provenance.bundle, { policy: pinned });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.summary.tee).toBe('ibm-se-sim');
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'evidence.se.signature',
        'evidence.se.binding',
        'policy.se.image-tag',
        'policy.se.host-key',
        'builder.id',
      ]),
    );

    const failed = (policyText: string) =>
      verifyProvenanceBundle(result.provenance.bundle, { policy: parsePolicy(policyText) })
        .checks.filter((c) => !c.ok)
        .map((c) => c.name);
    expect(failed(base)).toEqual(['evidence.se.verifier-key', 'builder.id']);
    expect(
      failed(
        `${base}se:\n  verifierKeys: [${JSON.stringify(service.verifierKeyPem)}]\n  imageTags: ["${'0'.repeat(32)}"]\n`,
      ),
    ).toEqual(['policy.se.image-tag', 'builder.id']);
    expect(
      failed(
        `requireReproducible: false\nrepositories: ["file://${repo}"]\nse:\n  verifierKeys: [${JSON.stringify(service.verifierKeyPem)}]\n`,
      ),
    ).toEqual(['policy.allow-simulated']);
    const otherVerifier = generateBuilderSigningKey().publicKeyPem;
    expect(failed(`${base}se:\n  verifierKeys: [${JSON.stringify(otherVerifier)}]\n`)).toEqual([
      'evidence.se.verifier-key',
      'builder.id',
    ]);
  });

  it('uses each request once, and refuses an answer that does not bind the presented key', async () => {
    const key = generateBuilderSigningKey();
    const { id, requestFile } = await service.challenge();
    const wrongUserData = computeTeeBinding({
      purpose: 'worker-key',
      signingKeySpkiDer: generateBuilderSigningKey().spkiDer,
    });
    await expect(
      service.complete(id, guest.perform(requestFile, wrongUserData), { signingKeySpkiDer: key.spkiDer }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN', message: /se\.user-data/ });
    await expect(
      service.complete(id, guest.perform(requestFile, wrongUserData), { signingKeySpkiDer: key.spkiDer }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('shares pending requests between service instances through the store, sealed at rest, single use', async () => {
    const store = await openTestStore();
    try {
      const box = new SecretBox(randomBytes(32));
      const signingKey = generateBuilderSigningKey();
      const options = {
        hostKeys: [guest.hostPublicKey],
        header: guest.header,
        signingKey,
        verifierId: 'v',
        simulated: true,
        requests: new SealedSeRequestStore(store, box),
      };
      const [a, b] = [new SeAttestationService(options), new SeAttestationService(options)];
      const key = generateBuilderSigningKey();
      const { id, requestFile } = await a.challenge();
      const binding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: key.spkiDer });
      const response = guest.perform(requestFile, binding);
      await expect(b.complete(id, response, { signingKeySpkiDer: key.spkiDer })).resolves.toMatchObject({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      });
      await expect(a.complete(id, response, { signingKeySpkiDer: key.spkiDer })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    } finally {
      await store.close();
    }
  });

  it('refuses an answer from a machine whose host key it did not address', async () => {
    const other = createSimulatedSeGuest();
    const key = generateBuilderSigningKey();
    const { id, requestFile } = await service.challenge();
    const binding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: key.spkiDer });
    expect(() => other.perform(requestFile, binding)).toThrow();
    await expect(service.complete(id, Buffer.alloc(64), { signingKeySpkiDer: key.spkiDer })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});
