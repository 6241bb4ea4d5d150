#!/usr/bin/env node
'use strict';
// npm run bench:verify: offline verification throughput on ONE core. Builds provenance bundles the
// way workers do (simulated TDX evidence binding an in-memory P-256 key; several bundles per worker
// identity, since a worker attests once at start and signs every build with that key), then measures
// (a) full verification, verifyProvenanceBundle: Sigstore bundle parse, DSSE signature, statement,
//     TDX quote + DCAP collateral (every chain, signature, CRL and TCB check), binding and policy;
// (b) bare @sigstore/verify on the same bundles: bundleFromJSON + Verifier.verify(toSignedEntity())
//     with public-key trust material, i.e. what any DSSE-only verifier pays.
// Prints one JSON line at the end. Uses the compiled libs in dist/ (npm run build first).
const { spawnSync } = require('node:child_process');
const { createPublicKey } = require('node:crypto');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');

// Pin to one CPU when taskset exists, so the numbers mean "per core" on any machine.
if (process.env.SB_BENCH_PINNED !== '1' && spawnSync('taskset', ['-V']).status === 0) {
  const run = spawnSync('taskset', ['-c', '0', process.execPath, module.filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SB_BENCH_PINNED: '1' },
  });
  process.exit(run.status ?? 1);
}

const dist = (lib) => require(join(ROOT, 'dist/libs', lib, 'src/index.js'));
const { computeTeeBinding, createSimulatedTdxProvider } = dist('attestation');
const { buildProvenanceStatement, generateBuilderSigningKey, parsePolicy, signProvenance, verifyProvenanceBundle } =
  dist('provenance');
const { setSignatureMemo } = require(join(ROOT, 'dist/libs/attestation/src/pck/verification-cache.js'));
const { bundleFromJSON } = require('@sigstore/bundle');
const { toSignedEntity, Verifier } = require('@sigstore/verify');

const WORKERS = Number(process.env.BENCH_WORKERS || 4);
const BUNDLES = Number(process.env.BENCH_BUNDLES || 64);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS || 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const REPO = 'https://git.example.com/org/wallet.git';
const POLICY = parsePolicy(`allowSimulated: true\nrepositories: ["${REPO}"]\nrefs: ["refs/heads/main"]\n`);
// BENCH_SIGNATURE_MEMO=off re-verifies every certificate, CRL and collateral signature on every call
// (parse caches stay on), to show what the signature memo in libs/attestation buys.
const SIGNATURE_MEMO = process.env.BENCH_SIGNATURE_MEMO !== 'off';
const hex = (byte, n = 32) => byte.repeat(n);

async function workerIdentity() {
  const key = generateBuilderSigningKey();
  const reportData = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: key.spkiDer });
  const evidence = await createSimulatedTdxProvider().collect(reportData);
  return { key, reportData, evidence };
}

async function bundle(identity, n) {
  const digest = (n + 1).toString(16).padStart(64, '0');
  const statement = buildProvenanceStatement({
    tee: 'simulated-tdx',
    builderVersion: { 'secure-build': 'bench' },
    toolchain: { git: '2.39.5', node: process.versions.node },
    source: {
      repository: REPO,
      ref: 'refs/heads/main',
      commit: n.toString(16).padStart(40, '0'),
      treeId: hex('b', 40),
      commitTime: 1735689600,
      submodules: [],
    },
    recipePath: 'securebuild.yaml',
    recipeSha256: hex('c', 64),
    image: {
      manifestDigest: `sha256:${digest}`,
      configDigest: `sha256:${hex('cd')}`,
      layers: [
        {
          digest: `sha256:${hex('ef')}`,
          diffId: `sha256:${hex('01')}`,
          size: 10,
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        },
      ],
      diffIds: [`sha256:${hex('01')}`],
      compressor: { name: 'node-zlib', version: process.versions.zlib, level: 6 },
      base: 'scratch',
    },
    sandbox: { kind: 'bubblewrap', version: '0.8.0', network: 'none' },
    rebuild: {
      performed: true,
      reproduced: true,
      manifestDigest: `sha256:${digest}`,
      diffIds: [`sha256:${hex('01')}`],
    },
    buildLog: { sha256: hex('d', 64), size: 100 },
    signingKey: { pem: identity.key.publicKeyPem, spkiSha256: identity.key.spkiSha256 },
    evidence: {
      mediaType: identity.evidence.mediaType,
      bytes: identity.evidence.quote,
      collateral: identity.evidence.collateral,
      teeType: 'tdx-sim',
      binding: { purpose: 'worker-key', reportData: identity.reportData.toString('hex') },
    },
    invocationId: `urn:uuid:00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    startedOn: new Date(),
    finishedOn: new Date(),
  });
  const signed = await signProvenance(statement, identity.key);
  return { json: signed.bundle, publicKeyPem: identity.key.publicKeyPem, hint: identity.key.spkiSha256 };
}

// The bare baseline: exactly the Sigstore part of verifyProvenanceBundle, with nothing around it.
function bareVerifier(b) {
  const key = createPublicKey(b.publicKeyPem);
  return new Verifier(
    {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: (hint) => {
        if (hint !== b.hint) throw new Error(`unknown key hint ${hint}`);
        return { publicKey: key, validFor: () => true };
      },
    },
    { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
  );
}

// CPU time of this process (user + system), not wall-clock: on a shared machine the scheduler may
// preempt either loop, and what the target speaks of is the work one core does per verification.
function timeLoop(iterations, bundles, fn) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn(bundles[i % bundles.length]);
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / 1000 / iterations; // CPU ms per op
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  setSignatureMemo(SIGNATURE_MEMO);
  const identities = [];
  for (let w = 0; w < WORKERS; w++) identities.push(await workerIdentity());
  const bundles = [];
  for (let n = 0; n < BUNDLES; n++) bundles.push(await bundle(identities[n % WORKERS], n));
  const verifiers = new Map(bundles.map((b) => [b, bareVerifier(b)]));

  // Every bundle must verify in both modes before we time anything.
  for (const b of bundles) {
    const report = verifyProvenanceBundle(b.json, { policy: POLICY });
    if (!report.verified) {
      throw new Error(`bundle does not verify: ${JSON.stringify(report.checks.filter((c) => !c.ok))}`);
    }
    verifiers.get(b).verify(toSignedEntity(bundleFromJSON(b.json)));
  }

  const full = (b) => {
    if (!verifyProvenanceBundle(b.json, { policy: POLICY }).verified) throw new Error('verification failed');
  };
  const bare = (b) => verifiers.get(b).verify(toSignedEntity(bundleFromJSON(b.json)));

  const warm = Math.min(2000, ITERATIONS); // JIT and caches reach steady state
  timeLoop(warm, bundles, full);
  timeLoop(warm, bundles, bare);
  const fullMs = [];
  const bareMs = [];
  for (let r = 0; r < ROUNDS; r++) {
    fullMs.push(timeLoop(ITERATIONS, bundles, full));
    bareMs.push(timeLoop(ITERATIONS, bundles, bare));
    process.stderr.write(
      `round ${r + 1}/${ROUNDS}: full ${(1000 / fullMs[r]).toFixed(0)}/s (${(fullMs[r] * 1000).toFixed(0)} µs), ` +
        `bare ${(1000 / bareMs[r]).toFixed(0)}/s (${(bareMs[r] * 1000).toFixed(0)} µs)\n`,
    );
  }
  const f = median(fullMs);
  const b = median(bareMs);
  // Each round times both loops back to back: the ratio within a round is not skewed by the machine
  // getting busier or quieter between rounds, so the reported ratio is the median of those.
  const ratio = median(fullMs.map((ms, r) => ms / bareMs[r]));
  process.stdout.write(
    `${JSON.stringify({
      bench: 'verify',
      ratio: +ratio.toFixed(3),
      ratioOfMedians: +(f / b).toFixed(3),
      fullPerSec: Math.round(1000 / f),
      barePerSec: Math.round(1000 / b),
      bundles: BUNDLES,
      workers: WORKERS,
      iterations: ITERATIONS * ROUNDS,
      signatureMemo: SIGNATURE_MEMO,
      targets: { fullPerSec: 1000, ratio: 2.5 },
    })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.stack || error}\n`);
  process.exit(1);
});
