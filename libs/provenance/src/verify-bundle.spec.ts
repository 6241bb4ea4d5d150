import { createHash, generateKeyPairSync, verify } from 'node:crypto';

import { beforeAll, describe, expect, it } from 'vitest';

import { computeTeeBinding, createSimulatedTdxProvider, TdxQuoteEvidence } from '@secure-build/attestation';

import { buildProvenanceStatement, ProvenanceInput } from './build-statement';
import { BUILDER_IDS, IN_TOTO_PAYLOAD_TYPE } from './constants';
import { parsePolicy } from './policy';
import { signProvenance } from './sign-bundle';
import { BuilderSigningKey, generateBuilderSigningKey } from './signing-key';
import { verifyProvenanceBundle } from './verify-bundle';

const REPO = 'https://git.example.com/org/wallet.git';
const MANIFEST = `sha256:${'ab'.repeat(32)}`;
const policy = parsePolicy(`allowSimulated: true\nrepositories: ["${REPO}"]\nrefs: ["refs/heads/main"]\n`);

function input(
  key: BuilderSigningKey,
  evidence: TdxQuoteEvidence,
  overrides: Partial<ProvenanceInput> = {},
): ProvenanceInput {
  const reportData = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: key.spkiDer });
  return {
    tee: 'simulated-tdx',
    builderVersion: { 'secure-build': 'test' },
    toolchain: { git: '2.39.5', node: process.versions.node },
    source: {
      repository: REPO,
      ref: 'refs/heads/main',
      commit: 'a'.repeat(40),
      treeId: 'b'.repeat(40),
      commitTime: 1735689600,
      submodules: [],
    },
    recipePath: 'securebuild.yaml',
    recipeSha256: 'c'.repeat(64),
    image: {
      manifestDigest: MANIFEST,
      configDigest: `sha256:${'cd'.repeat(32)}`,
      layers: [
        {
          digest: `sha256:${'ef'.repeat(32)}`,
          diffId: `sha256:${'01'.repeat(32)}`,
          size: 10,
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        },
      ],
      diffIds: [`sha256:${'01'.repeat(32)}`],
      compressor: { name: 'node-zlib', version: process.versions.zlib, level: 6 },
      base: 'scratch',
    },
    sandbox: { kind: 'bubblewrap', version: '0.8.0', network: 'none' },
    rebuild: { performed: true, reproduced: true, manifestDigest: MANIFEST, diffIds: [`sha256:${'01'.repeat(32)}`] },
    buildLog: { sha256: 'd'.repeat(64), size: 100 },
    signingKey: { pem: key.publicKeyPem, spkiSha256: key.spkiSha256 },
    evidence: {
      mediaType: evidence.mediaType,
      bytes: evidence.quote,
      collateral: evidence.collateral,
      teeType: 'tdx-sim',
      binding: { purpose: 'worker-key', reportData: reportData.toString('hex') },
    },
    invocationId: 'urn:uuid:00000000-0000-4000-8000-000000000000',
    startedOn: new Date(),
    finishedOn: new Date(),
    ...overrides,
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('verifyProvenanceBundle', () => {
  let key: BuilderSigningKey;
  let evidence: TdxQuoteEvidence;
  let bundle: Json;

  const failedChecks = (json: unknown, options: Partial<Parameters<typeof verifyProvenanceBundle>[1]> = {}): string[] =>
    verifyProvenanceBundle(json, { policy, ...options })
      .checks.filter((c) => !c.ok)
      .map((c) => c.name);

  /** Re-signs an edited statement with `signer`, so only the semantic check under test fails. */
  const resign = (statement: Json, signer: BuilderSigningKey = key): Json => {
    const payload = Buffer.from(JSON.stringify(statement));
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${IN_TOTO_PAYLOAD_TYPE.length} ${IN_TOTO_PAYLOAD_TYPE} ${payload.length} `),
      payload,
    ]);
    const copy = structuredClone(bundle);
    copy.dsseEnvelope.payload = payload.toString('base64');
    copy.dsseEnvelope.signatures[0] = { sig: signer.sign(pae).toString('base64'), keyid: signer.spkiSha256 };
    copy.verificationMaterial.publicKey.hint = signer.spkiSha256;
    return copy;
  };
  const statementOf = (b: Json): Json => JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));

  beforeAll(async () => {
    key = generateBuilderSigningKey();
    evidence = await createSimulatedTdxProvider().collect(
      computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: key.spkiDer }),
    );
    bundle = (await signProvenance(buildProvenanceStatement(input(key, evidence)), key)).bundle as Json;
  });

  it('verifies a well-formed bundle and summarizes it', () => {
    const report = verifyProvenanceBundle(bundle, { policy, imageDigest: MANIFEST });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.verified).toBe(true);
    expect(report.summary).toMatchObject({
      repository: REPO,
      ref: 'refs/heads/main',
      tee: 'tdx-sim',
      tcbStatus: 'UpToDate',
      reproducibility: 'reproduced',
    });
  });

  it('emits the bundle shape sigstore clients expect', () => {
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.publicKey.hint).toBe(key.spkiSha256);
    expect(bundle.dsseEnvelope.signatures).toHaveLength(1);
    expect(bundle.dsseEnvelope.signatures[0].keyid).toBe(key.spkiSha256);
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
  });

  it('rejects something that is not a bundle', () => {
    expect(failedChecks({ hello: 'world' })).toEqual(['bundle.format']);
    expect(failedChecks(null)).toEqual(['bundle.format']);
  });

  it('rejects a wrong payload type', () => {
    const copy = structuredClone(bundle);
    copy.dsseEnvelope.payloadType = 'application/json';
    expect(failedChecks(copy)).toEqual(expect.arrayContaining(['bundle.payload-type', 'dsse.signature']));
  });

  it('rejects a payload that is not JSON', () => {
    const copy = structuredClone(bundle);
    copy.dsseEnvelope.payload = Buffer.from('not json').toString('base64');
    expect(failedChecks(copy)).toContain('statement.parse');
  });

  it('rejects a wrong statement or predicate type even when correctly signed', () => {
    const statement = statementOf(bundle);
    expect(failedChecks(resign({ ...statement, _type: 'https://in-toto.io/Statement/v0.1' }))).toEqual([
      'statement.type',
    ]);
    expect(failedChecks(resign({ ...statement, predicateType: 'https://slsa.dev/provenance/v0.2' }))).toEqual([
      'statement.predicate-type',
    ]);
  });

  it('rejects a key hint that does not name the signing key', () => {
    const copy = structuredClone(bundle);
    copy.verificationMaterial.publicKey.hint = 'f'.repeat(64);
    expect(failedChecks(copy)).toContain('bundle.key-hint');
  });

  it('rejects a signature by a key the evidence does not bind', () => {
    // An attacker swaps in their own key and signs consistently: the quote's REPORTDATA still names the TEE key.
    const attacker = generateBuilderSigningKey();
    const statement = statementOf(bundle);
    const keyDescriptor = statement.predicate.runDetails.byproducts.find((b: Json) => b.name === 'signing-key');
    keyDescriptor.content = Buffer.from(attacker.publicKeyPem).toString('base64');
    keyDescriptor.digest = { sha256: attacker.spkiSha256 };
    expect(failedChecks(resign(statement, attacker))).toEqual(['evidence.report-data.binding', 'builder.id']);
  });

  it('rejects a non-P-256 signing key', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const statement = statementOf(bundle);
    statement.predicate.runDetails.byproducts.find((b: Json) => b.name === 'signing-key').content = Buffer.from(
      publicKey.export({ type: 'spki', format: 'pem' }),
    ).toString('base64');
    expect(failedChecks(resign(statement))).toContain('signing-key.present');
  });

  it('rejects missing evidence', () => {
    const statement = statementOf(bundle);
    statement.predicate.runDetails.byproducts = statement.predicate.runDetails.byproducts.filter(
      (b: Json) => b.name !== 'tee-evidence',
    );
    expect(failedChecks(resign(statement))).toEqual(['evidence.present', 'builder.id']);
  });

  it('rejects evidence whose digest does not match its content', () => {
    const statement = statementOf(bundle);
    statement.predicate.runDetails.byproducts.find((b: Json) => b.name === 'tee-evidence').digest = {
      sha256: '0'.repeat(64),
    };
    expect(failedChecks(resign(statement))).toContain('evidence.present');
  });

  it('rejects a builder.id that claims hardware for simulated evidence', () => {
    const statement = statementOf(bundle);
    statement.predicate.runDetails.builder.id = BUILDER_IDS.tdx;
    expect(failedChecks(resign(statement))).toEqual(['builder.id']);
  });

  it('refuses simulated evidence unless the policy allows it', () => {
    const strict = parsePolicy(`repositories: ["${REPO}"]`);
    expect(failedChecks(bundle, { policy: strict })).toEqual(['policy.allow-simulated']);
  });

  it('checks evidence as of the build time, and at an explicit time when asked', () => {
    expect(failedChecks(bundle, { asOf: new Date(Date.now() + 60 * 86_400_000) })).toEqual(
      expect.arrayContaining(['evidence.collateral.tcb-info.validity', 'builder.id']),
    );
  });

  it('pins TDX measurements, TEE types and the minimum TCB status from the policy', async () => {
    const { SIMULATED_MEASUREMENTS } = await import('@secure-build/attestation');
    const pinned = parsePolicy(
      `allowSimulated: true\nrepositories: ["${REPO}"]\nrefs: ["refs/heads/main"]\nallowedTees: [tdx-sim]\ntdx:\n  mrtd: ["${SIMULATED_MEASUREMENTS.mrtd}"]\n  rtmr1: ["${SIMULATED_MEASUREMENTS.rtmr1}"]\n  minTcbStatus: UpToDate\n`,
    );
    const passed = verifyProvenanceBundle(bundle, { policy: pinned });
    expect(passed.checks.filter((c) => !c.ok)).toEqual([]);
    expect(passed.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'policy.tee-type',
        'policy.tdx.mrtd',
        'policy.tdx.rtmr1',
        'policy.tdx.debug',
        'policy.tdx.tcb-status',
      ]),
    );

    const wrong = parsePolicy(
      `allowSimulated: true\nrepositories: ["${REPO}"]\nallowedTees: [tdx]\ntdx:\n  mrtd: ["${'ab'.repeat(48)}"]\n  rtmr2: ["${'cd'.repeat(48)}"]\n`,
    );
    expect(failedChecks(bundle, { policy: wrong })).toEqual(['policy.tee-type', 'policy.tdx.mrtd', 'policy.tdx.rtmr2']);
  });

  it('refuses malformed reference values in the policy', () => {
    expect(() => parsePolicy(`repositories: ["${REPO}"]\ntdx:\n  mrtd: ["abc"]\n`)).toThrow(
      /tdx\.mrtd\.0: must be 48 bytes/,
    );
    expect(() => parsePolicy(`repositories: ["${REPO}"]\ntdx:\n  minTcbStatus: Great\n`)).toThrow(/tdx\.minTcbStatus/);
    expect(() => parsePolicy(`repositories: ["${REPO}"]\nallowedTees: [sgx]\n`)).toThrow(/allowedTees/);
  });

  it('checks the subject digest', () => {
    expect(failedChecks(bundle, { imageDigest: `sha256:${'00'.repeat(32)}` })).toEqual(['subject.digest']);
  });

  it('applies repository, ref, reproducibility and sandbox policy', () => {
    const other = parsePolicy(
      'allowSimulated: true\nrepositories: ["https://git.example.com/other/*"]\nrefs: ["refs/tags/*"]',
    );
    expect(failedChecks(bundle, { policy: other })).toEqual(['policy.repository', 'policy.ref']);

    const statement = statementOf(bundle);
    statement.predicate.runDetails.byproducts.find((b: Json) => b.name === 'reproducibility').annotations = {
      result: 'not-checked',
    };
    statement.predicate.buildDefinition.internalParameters.sandbox = { kind: 'none', insecure: true };
    delete statement.predicate.buildDefinition.externalParameters.source.ref;
    expect(failedChecks(resign(statement))).toEqual(['policy.ref', 'policy.reproducible', 'policy.sandbox']);
    const lenient = parsePolicy(
      `allowSimulated: true\nrepositories: ["${REPO}"]\nrequireReproducible: false\nallowInsecureSandbox: true`,
    );
    expect(failedChecks(resign(statement), { policy: lenient })).toEqual([]);
  });

  it('signs the DSSE PAE bytes, checkable with plain node:crypto', () => {
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const pae = Buffer.concat([Buffer.from(`DSSEv1 28 ${IN_TOTO_PAYLOAD_TYPE} ${payload.length} `), payload]);
    const signature = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    expect(verify('sha256', pae, key.publicKeyPem, signature)).toBe(true);
    expect(verify('sha256', payload, key.publicKeyPem, signature)).toBe(false);
    expect(createHash('sha256').update(key.spkiDer).digest('hex')).toBe(key.spkiSha256);
  });
});
