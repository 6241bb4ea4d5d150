#!/usr/bin/env node
'use strict';
// npm run bench:image: deterministic image assembly (writeImageLayout: one gzip layer from a tree,
// config, manifest, index) against `tar --sort=name … | gzip -n -6` on the same tree, in the same run.
// The tree (~200 MB, BENCH_IMAGE_MB) is generated deterministically in a temporary directory: a few
// thousand small source-like files, mid-size files, a few large partly compressible files, nested
// directories and symlinks. Prints one JSON line at the end (sizes in MiB). Uses the compiled libs in
// dist/ (npm run build first).
//
// No CPU pinning (unlike bench:verify): the baseline is a two-process pipeline, tar and gzip run in
// parallel on two cores, so ours may use what it naturally uses too (the main thread plus the libuv
// threadpool that runs zlib). Pinning both to one core would measure something neither does in use.
//
// Our side runs in a child process per round, so the peak RSS it reports (process.resourceUsage()
// .maxRSS) belongs to that round alone and shows whether a layer is ever held in memory; the time
// is measured inside the child around writeImageLayout (Node start-up and require are excluded,
// the baseline's process start-up of bash, tar and gzip is included: a few milliseconds; oursProcessMs
// reports the child's whole lifetime too).
const { createCipheriv } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const MiB = 1024 * 1024;
const SDE = 1700000000;
const LEVEL = 6; // DEFAULT_COMPRESSION_LEVEL in libs/oci; checked below
const TREE_MB = Number(process.env.BENCH_IMAGE_MB || 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
// The baseline with digests: the same pipeline teeing the tar and the gzip stream into sha256sum
// (what a registry push needs: diff_id and blob digest). Reported next to the plain ratio.
const DIGEST_BASELINE = process.env.BENCH_DIGEST_BASELINE !== 'off';

// ---- child: one run of our side -------------------------------------------------------------

async function runOurs(tree, outDir) {
  const { writeImageLayout } = require(join(ROOT, 'dist/libs/oci/src/index.js'));
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const result = await writeImageLayout({
    outDir,
    layers: [{ from: tree, to: '/' }],
    sourceDateEpoch: SDE,
    compressionLevel: LEVEL,
    config: { architecture: 'amd64', os: 'linux', cmd: ['/bin/app'] },
  });
  const ms = performance.now() - t0;
  const [layer] = result.layers;
  process.stdout.write(
    `${JSON.stringify({
      ms,
      maxRssMB: process.resourceUsage().maxRSS / 1024, // KiB → MiB
      rssBeforeMB: rssBefore / MiB,
      digest: layer.digest,
      diffId: layer.diffId,
      size: layer.size,
      uncompressedSize: layer.uncompressedSize,
      entries: layer.entries,
    })}\n`,
  );
}

// ---- deterministic tree ---------------------------------------------------------------------

// mulberry32: small seeded PRNG for structure and text; AES-CTR keystream for incompressible bytes.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function keystream(seed, length) {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0, 0);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

const WORDS = (
  'const let return function async await import export from default class extends interface type ' +
  'if else for while switch case break throw new this null undefined true false string number ' +
  'buffer stream digest layer manifest config index blob sha256 tar gzip entry header size mode ' +
  'path name value options result error promise resolve reject handle write read open close'
).split(' ');

function sourceText(rand, bytes) {
  const lines = [];
  let length = 0;
  let depth = 0;
  while (length < bytes) {
    const words = [];
    const count = 2 + Math.floor(rand() * 9);
    for (let i = 0; i < count; i += 1) words.push(WORDS[Math.floor(rand() * WORDS.length)]);
    if (rand() < 0.3) words.push(String(Math.floor(rand() * 100000)));
    const line = `${'  '.repeat(depth)}${words.join(rand() < 0.5 ? ' ' : '.')}${rand() < 0.2 ? ' {' : ';'}`;
    depth = line.endsWith('{') ? Math.min(depth + 1, 6) : rand() < 0.2 ? Math.max(depth - 1, 0) : depth;
    lines.push(line);
    length += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`).subarray(0, bytes);
}

// Mixed content in 64 KiB blocks: `randomShare` of them incompressible, the rest source-like text.
function mixedContent(seed, bytes, randomShare) {
  const rand = prng(seed);
  const parts = [];
  for (let done = 0; done < bytes;) {
    const n = Math.min(64 * 1024, bytes - done);
    parts.push(rand() < randomShare ? keystream(seed * 7919 + done, n) : sourceText(rand, n));
    done += n;
  }
  return Buffer.concat(parts, bytes);
}

function put(tree, path, content, mode = 0o644) {
  const full = join(tree, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content, { mode });
}

/** Writes the tree and returns its size in bytes (file contents only). */
function generateTree(tree, totalBytes) {
  const scale = totalBytes / (200 * MiB);
  const rand = prng(42);
  let written = 0;
  // ~3000 small source files (200 B – 12 KiB) in nested packages, ~8 % of the bytes.
  const small = Math.max(50, Math.round(3000 * scale));
  for (let i = 0; i < small; i += 1) {
    const depth = 1 + Math.floor(rand() * 4);
    const dirs = [];
    for (let d = 0; d < depth; d += 1) dirs.push(`${WORDS[Math.floor(rand() * WORDS.length)]}-${d}`);
    const size = 200 + Math.floor(rand() * 12 * 1024);
    const ext = ['ts', 'js', 'json', 'md', 'd.ts'][i % 5];
    put(
      tree,
      `src/pkg-${i % 40}/${dirs.join('/')}/file-${i}.${ext}`,
      sourceText(rand, size),
      i % 97 === 0 ? 0o755 : 0o644,
    );
    written += size;
  }
  // ~150 mid-size files (64 KiB – 1 MiB), half text-like bundles, half partly random assets, ~35 %.
  const mid = Math.max(5, Math.round(150 * scale));
  for (let i = 0; i < mid; i += 1) {
    const size = 64 * 1024 + Math.floor(rand() * (MiB - 64 * 1024));
    const name = i % 2 === 0 ? `dist/bundle-${i}.js` : `assets/${i % 7}/asset-${i}.bin`;
    put(tree, name, mixedContent(1000 + i, size, i % 2 === 0 ? 0.1 : 0.6));
    written += size;
  }
  // The rest in 4 large files, 35 % random blocks, written in pieces to keep generation memory flat.
  const large = Math.max(0, totalBytes - written);
  for (let i = 0; i < 4; i += 1) {
    const size = Math.floor(large / 4) + (i === 3 ? large % 4 : 0);
    const path = join(tree, `data/large-${i}.dat`);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    for (let done = 0; done < size;) {
      const n = Math.min(8 * MiB, size - done);
      writeFileSync(path, mixedContent(5000 + i * 1000 + done / MiB, n, 0.35), { flag: 'a' });
      done += n;
    }
    written += size;
  }
  mkdirSync(join(tree, 'bin'), { recursive: true });
  symlinkSync('../dist/bundle-0.js', join(tree, 'bin/app'));
  symlinkSync('data', join(tree, 'current'));
  return written;
}

// ---- the two sides --------------------------------------------------------------------------

function ours(tree, outDir) {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [module.filename, '--ours', tree, outDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: MiB,
  });
  if (run.status !== 0) throw new Error(`ours exited with ${run.status}`);
  // processMs adds Node start-up and loading dist/ to the measured call, for comparison.
  return { ...JSON.parse(run.stdout.toString().trim().split('\n').pop()), processMs: performance.now() - t0 };
}

const TAR =
  `tar --sort=name --mtime=@${SDE} --clamp-mtime --owner=0 --group=0 --numeric-owner ` +
  `--mode=go=rX,u+rw,a-s --format=posix ` +
  `--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf - -C "$1" .`;

function bash(script, args) {
  const t0 = performance.now();
  const run = spawnSync('bash', ['-c', `set -euo pipefail\n${script}`, 'bench', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`baseline exited with ${run.status}`);
  return performance.now() - t0;
}

// Exactly the issue's pipeline.
function baseline(tree, out) {
  return bash(`${TAR} | gzip -n -${LEVEL} > "$2"`, [tree, out]);
}

// The same pipeline also producing both digests; sha256sum reads fifos fed by tee, in parallel.
function baselineWithDigests(tree, out, dir) {
  return bash(
    `mkfifo "$3/tar.fifo" "$3/gz.fifo"
sha256sum < "$3/tar.fifo" > "$3/tar.sha" & a=$!
sha256sum < "$3/gz.fifo" > "$3/gz.sha" & b=$!
${TAR} | tee "$3/tar.fifo" | gzip -n -${LEVEL} | tee "$3/gz.fifo" > "$2"
wait $a $b
rm -f "$3/tar.fifo" "$3/gz.fifo"`,
    [tree, out, dir],
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => +(bytes / MiB).toFixed(1);

function main() {
  const { DEFAULT_COMPRESSION_LEVEL } = require(join(ROOT, 'dist/libs/oci/src/index.js'));
  if (DEFAULT_COMPRESSION_LEVEL !== LEVEL)
    throw new Error(`default level is ${DEFAULT_COMPRESSION_LEVEL}, not ${LEVEL}`);
  const root = mkdtempSync(join(tmpdir(), 'sb-bench-image-'));
  try {
    const tree = join(root, 'tree');
    const t0 = performance.now();
    const treeBytes = generateTree(tree, Math.round(TREE_MB * MiB));
    process.stderr.write(`tree: ${mb(treeBytes)} MiB generated in ${(performance.now() - t0).toFixed(0)} ms\n`);

    const round = (n, oursFirst) => {
      const dir = join(root, `round-${n}`);
      mkdirSync(dir);
      // Alternate the order so neither side always runs on a cache or a CPU the other just warmed.
      const runOursSide = () => ours(tree, join(dir, 'layout'));
      const runBaseline = () => baseline(tree, join(dir, 'baseline.tar.gz'));
      let o, b;
      if (oursFirst) {
        o = runOursSide();
        b = runBaseline();
      } else {
        b = runBaseline();
        o = runOursSide();
      }
      const d = DIGEST_BASELINE ? baselineWithDigests(tree, join(dir, 'digests.tar.gz'), dir) : undefined;
      const baselineSize = statSync(join(dir, 'baseline.tar.gz')).size;
      if (d !== undefined) {
        const gzSha = readFileSync(join(dir, 'gz.sha'), 'utf8').split(' ')[0];
        if (statSync(join(dir, 'digests.tar.gz')).size !== baselineSize || !/^[0-9a-f]{64}$/.test(gzSha)) {
          throw new Error('baseline with digests wrote a different archive');
        }
      }
      rmSync(dir, { recursive: true, force: true });
      return { o, b, d, baselineSize };
    };

    const warm = round('warm', false);
    process.stderr.write(
      `warm-up: ours ${warm.o.ms.toFixed(0)} ms, baseline ${warm.b.toFixed(0)} ms` +
        `${warm.d === undefined ? '' : `, baseline+digests ${warm.d.toFixed(0)} ms`}\n`,
    );
    const rounds = [];
    for (let n = 0; n < ROUNDS; n += 1) {
      const r = round(n, n % 2 === 0);
      if (r.o.digest !== warm.o.digest || r.o.diffId !== warm.o.diffId)
        throw new Error('our layer is not reproducible');
      rounds.push(r);
      process.stderr.write(
        `round ${n + 1}/${ROUNDS}: ours ${r.o.ms.toFixed(0)} ms (max RSS ${r.o.maxRssMB.toFixed(0)} MiB), ` +
          `baseline ${r.b.toFixed(0)} ms${r.d === undefined ? '' : `, baseline+digests ${r.d.toFixed(0)} ms`}\n`,
      );
    }
    const oursMs = median(rounds.map((r) => r.o.ms));
    const baselineMs = median(rounds.map((r) => r.b));
    const digestsMs = DIGEST_BASELINE ? median(rounds.map((r) => r.d)) : undefined;
    const layer = warm.o;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'image',
        ratio: +(oursMs / baselineMs).toFixed(3),
        oursMs: Math.round(oursMs),
        baselineMs: Math.round(baselineMs),
        oursProcessMs: Math.round(median(rounds.map((r) => r.o.processMs))),
        ratioVsBaselineWithDigests: digestsMs === undefined ? undefined : +(oursMs / digestsMs).toFixed(3),
        baselineWithDigestsMs: digestsMs === undefined ? undefined : Math.round(digestsMs),
        treeMB: mb(treeBytes),
        tarMB: mb(layer.uncompressedSize),
        layerMB: mb(layer.size),
        baselineLayerMB: mb(warm.baselineSize),
        entries: layer.entries,
        oursMaxRssMB: Math.round(Math.max(...rounds.map((r) => r.o.maxRssMB))),
        oursRssBeforeMB: Math.round(layer.rssBeforeMB),
        level: LEVEL,
        rounds: ROUNDS,
        target: 1.25,
      })}\n`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--ours') {
  runOurs(process.argv[3], process.argv[4]).catch((error) => {
    process.stderr.write(`ours failed: ${error.stack || error}\n`);
    process.exit(1);
  });
} else {
  try {
    main();
  } catch (error) {
    process.stderr.write(`bench failed: ${error.stack || error}\n`);
    process.exit(1);
  }
}
