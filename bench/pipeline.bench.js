#!/usr/bin/env node
'use strict';
// npm run bench: the whole pipeline (fetch, sandboxed build, OCI image, attestation, provenance,
// signing) against the same steps done by hand with git, sh, tar | gzip -n and sha256sum, in the same
// run, on a fixture whose build writes about 50 MB. Prints one JSON line at the end.
const { execFileSync } = require('node:child_process');
const { chmodSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const dist = (lib) => require(join(ROOT, 'dist/libs', lib, 'src/index.js'));
const { establishBuilderIdentity, runSecureBuild } = dist('build');
const { createSimulatedTdxProvider } = dist('attestation');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
};
const sh = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'], ...opts });

// ~50 MB of deterministic, moderately compressible output.
const BUILD_SH = `#!/bin/sh
set -eu
mkdir -p dist/data
for part in 0 1 2 3 4; do
  awk -v p=$part 'BEGIN { x = 12345 + p; for (i = 0; i < 200000; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "%010d %08x wallet-signer ledger entry %d\\n", i, x, x % 977 } }' > dist/data/part-$part.txt
done
echo built
`;
const RECIPE = `apiVersion: securebuild/v1
build:
  run: "sh ./build.sh"
  outputs:
    - { from: dist, to: /app }
image:
  base: scratch
`;

function createRepo(root) {
  const repo = join(root, 'repo');
  mkdirSync(repo);
  writeFileSync(join(repo, 'build.sh'), BUILD_SH, { mode: 0o755 });
  writeFileSync(join(repo, 'securebuild.yaml'), RECIPE);
  sh('git', ['init', '-q', '-b', 'main'], { cwd: repo });
  sh('git', ['add', '-A'], { cwd: repo });
  sh('git', ['commit', '-q', '-m', 'bench'], { cwd: repo });
  return { repo, commit: sh('git', ['rev-parse', 'HEAD'], { cwd: repo }).toString().trim() };
}

function byHand(root, repo, commit, n) {
  const dir = join(root, `hand-${n}`);
  const t0 = performance.now();
  sh('git', ['init', '-q', dir]);
  sh('git', ['-C', dir, 'remote', 'add', 'origin', '--', `file://${repo}`]);
  sh('git', ['-C', dir, '-c', 'protocol.version=2', 'fetch', '-q', '--no-tags', '--depth=1', 'origin', commit], {
    env: { ...GIT_ENV, GIT_ALLOW_PROTOCOL: 'file' },
  });
  sh('git', ['-C', dir, '-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', commit]);
  const sde = sh('git', ['-C', dir, 'log', '-1', '--format=%ct', 'HEAD']).toString().trim();
  sh('sh', ['./build.sh'], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', SOURCE_DATE_EPOCH: sde, TZ: 'UTC', LC_ALL: 'C.UTF-8', HOME: dir },
  });
  sh(
    'sh',
    [
      '-c',
      `tar --sort=name --mtime=@${sde} --owner=0 --group=0 --numeric-owner -C dist -cf - . | gzip -n > ../layer-${n}.tar.gz && sha256sum ../layer-${n}.tar.gz`,
    ],
    { cwd: dir },
  );
  return performance.now() - t0;
}

async function ours(root, repo, commit, n, rebuild) {
  const t0 = performance.now();
  const identity = await establishBuilderIdentity(createSimulatedTdxProvider());
  await runSecureBuild({
    repository: repo,
    commit,
    outDir: join(root, `ours-${rebuild ? 'rebuild' : 'single'}-${n}`),
    allowLocalRepo: true,
    rebuild,
    identity,
    builderVersion: { 'secure-build': 'bench' },
    workRoot: root,
  });
  return performance.now() - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  chmodSync(root, 0o711); // the sandbox's unprivileged uid must traverse it
  try {
    const { repo, commit } = createRepo(root);
    const hand = [],
      single = [],
      double = [];
    for (let n = 0; n < ROUNDS; n++) {
      hand.push(byHand(root, repo, commit, n));
      single.push(await ours(root, repo, commit, n, false));
      double.push(await ours(root, repo, commit, n, true));
      process.stderr.write(
        `round ${n + 1}/${ROUNDS}: by hand ${hand[n].toFixed(0)} ms, ours ${single[n].toFixed(0)} ms, ours+rebuild ${double[n].toFixed(0)} ms\n`,
      );
    }
    const baselineMs = median(hand),
      oursMs = median(single),
      oursRebuildMs = median(double);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'pipeline',
        ratio: +(oursMs / baselineMs).toFixed(3),
        ratioWithRebuild: +(oursRebuildMs / baselineMs).toFixed(3),
        baselineMs: Math.round(baselineMs),
        oursNoRebuildMs: Math.round(oursMs),
        oursRebuildMs: Math.round(oursRebuildMs),
        rounds: ROUNDS,
        targets: { noRebuild: 1.25, rebuild: 2.3 },
      })}\n`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.stack || error}\n`);
  process.exit(1);
});
