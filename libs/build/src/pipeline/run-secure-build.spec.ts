import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { createSimulatedTdxProvider } from '@secure-build/attestation';
import { parsePolicy, signProvenance, verifyProvenanceBundle } from '@secure-build/provenance';

import { BuildEvent } from './build-events';
import { BuilderIdentity, establishBuilderIdentity } from './builder-identity';
import { runSecureBuild, SecureBuildRequest } from './run-secure-build';

const RECIPE = (run: string, extra = ''): string =>
  `apiVersion: securebuild/v1\nbuild:\n  run: ${JSON.stringify(run)}\n  outputs:\n    - { from: out, to: /app }\nimage:\n  base: scratch\n${extra}`;

function repoWith(files: Record<string, string>): { dir: string; commit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-pipeline-'));
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@e',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@e',
    GIT_COMMITTER_DATE: '2025-03-01T00:00:00Z',
    GIT_AUTHOR_DATE: '2025-03-01T00:00:00Z',
  };
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  execFileSync('git', ['-C', dir, 'add', '-A'], { env });
  execFileSync('git', ['-C', dir, 'commit', '-q', '-m', 'x'], { env });
  return { dir, commit: execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { env, encoding: 'utf8' }).trim() };
}

const workRoot = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-work-'));
  chmodSync(dir, 0o711);
  return dir;
};

describe('runSecureBuild', () => {
  let identity: BuilderIdentity;
  const request = (
    repo: { dir: string; commit: string },
    extra: Partial<SecureBuildRequest> = {},
  ): SecureBuildRequest => ({
    repository: repo.dir,
    commit: repo.commit,
    outDir: join(mkdtempSync(join(tmpdir(), 'sb-out-')), 'out'),
    allowLocalRepo: true,
    identity,
    builderVersion: { 'secure-build': 'test' },
    workRoot: workRoot(),
    ...extra,
  });

  beforeAll(async () => {
    identity = await establishBuilderIdentity(createSimulatedTdxProvider());
  });

  it('builds, reports every stage in order, and signs verifiable provenance', async () => {
    const repo = repoWith({
      'securebuild.yaml': RECIPE('mkdir -p out && echo "$SOURCE_DATE_EPOCH" > out/epoch && pwd'),
    });
    const events: BuildEvent[] = [];
    const result = await runSecureBuild(request(repo, { onEvent: (e) => events.push(e) }));
    expect(events.filter((e) => e.type === 'stage-end').map((e) => (e as { stage: string }).stage)).toEqual([
      'source',
      'verify',
      'recipe',
      'build',
      'image',
      'rebuild',
      'provenance',
    ]);
    expect(result.reproducible).toBe(true);
    const log = readFileSync(join(result.outDir, 'build.log'), 'utf8');
    expect(log).toContain('/build/src'); // first build path
    expect(log).toContain('/rebuild/work/src'); // the rebuild ran elsewhere
    const policy = parsePolicy(`allowSimulated: true\nrepositories: ["file://${repo.dir}"]`);
    const report = verifyProvenanceBundle(result.provenance.bundle, { policy, imageDigest: result.manifestDigest });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    const statement = JSON.parse(result.provenance.payload.toString('utf8'));
    const logDescriptor = statement.predicate.runDetails.byproducts.find(
      (b: { name: string }) => b.name === 'build.log',
    );
    expect(logDescriptor.digest.sha256).toBe(
      execFileSync('sha256sum', [join(result.outDir, 'build.log')], { encoding: 'utf8' }).split(' ')[0],
    );
  });

  it('records --insecure-no-sandbox and --no-rebuild so that default policies refuse the result', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('mkdir -p out && echo hi > out/x') });
    const result = await runSecureBuild(request(repo, { sandbox: 'insecure-no-sandbox', rebuild: false }));
    expect(result.reproducible).toBe('not-checked');
    const statement = JSON.parse(result.provenance.payload.toString('utf8'));
    expect(statement.predicate.buildDefinition.internalParameters).toMatchObject({
      sandbox: { kind: 'none', insecure: true },
      rebuild: 'skipped',
    });
    const strict = parsePolicy(`allowSimulated: true\nrepositories: ["file://${repo.dir}"]`);
    const failed = verifyProvenanceBundle(result.provenance.bundle, { policy: strict })
      .checks.filter((c) => !c.ok)
      .map((c) => c.name);
    expect(failed).toEqual(['policy.reproducible', 'policy.sandbox']);
  });

  it('fails a non-zero build with its exit code, keeps the log, and writes no provenance', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('echo compiling; echo broken >&2; exit 3') });
    const req = request(repo);
    await expect(runSecureBuild(req)).rejects.toMatchObject({ code: 'BUILD_FAILED' });
    expect(readFileSync(join(req.outDir, 'build.log'), 'utf8')).toMatch(/compiling[\s\S]*broken[\s\S]*build failed/);
    expect(existsSync(join(req.outDir, 'provenance.sigstore.json'))).toBe(false);
  });

  it('applies resource limits to the build', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('mkdir -p out && head -c 65536 /dev/zero > out/big') });
    await expect(
      runSecureBuild(request(repo, { limits: { maxFileBytes: 4096 }, rebuild: false })),
    ).rejects.toMatchObject({
      code: 'BUILD_FAILED',
    });
    await expect(runSecureBuild(request(repo, { rebuild: false }))).resolves.toMatchObject({
      reproducible: 'not-checked',
    });
  });

  it('cancels a running build when its signal aborts, killing the sandbox and signing nothing', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('mkdir -p out && sleep 60 && echo late > out/x') });
    const controller = new AbortController();
    const req = request(repo, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'stage-start' && e.stage === 'build') setTimeout(() => controller.abort(), 200);
      },
    });
    const started = Date.now();
    await expect(runSecureBuild(req)).rejects.toMatchObject({ code: 'BUILD_CANCELLED' });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(existsSync(join(req.outDir, 'provenance.sigstore.json'))).toBe(false);
  });

  it('refuses a commit that is not reachable from the given ref, before building', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('mkdir -p out && echo ran > out/x') });
    const events: BuildEvent[] = [];
    await expect(
      runSecureBuild(request(repo, { ref: 'refs/tags/v1', onEvent: (e) => events.push(e) })),
    ).rejects.toMatchObject({ code: 'REF_NOT_FOUND' });
    execFileSync('git', ['-C', repo.dir, 'checkout', '-q', '-b', 'other']);
    execFileSync('git', [
      '-C',
      repo.dir,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@e',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'side',
    ]);
    const side = execFileSync('git', ['-C', repo.dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    await expect(
      runSecureBuild(request({ dir: repo.dir, commit: side }, { ref: 'refs/heads/main' })),
    ).rejects.toMatchObject({ code: 'NOT_REACHABLE' });
    expect(events.some((e) => e.type === 'stage-start' && e.stage === 'build')).toBe(false);
  });

  it('enforces an SSH signature policy and records the signer in the provenance', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'sb-sign-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dev@wallet.example', '-f', join(keys, 'key')]);
    const allowedSigners = `dev@wallet.example namespaces="git" ${readFileSync(join(keys, 'key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
    const unsigned = repoWith({ 'securebuild.yaml': RECIPE('mkdir -p out && echo ok > out/x') });
    await expect(
      runSecureBuild(request(unsigned, { signaturePolicy: { mode: 'ssh', allowedSigners }, rebuild: false })),
    ).rejects.toMatchObject({
      code: 'SIGNATURE_MISSING',
    });
    execFileSync('git', [
      '-C',
      unsigned.dir,
      '-c',
      'user.name=t',
      '-c',
      'user.email=dev@wallet.example',
      '-c',
      'gpg.format=ssh',
      '-c',
      `user.signingkey=${join(keys, 'key')}`,
      'commit',
      '-q',
      '-S',
      '--allow-empty',
      '-m',
      'signed',
    ]);
    const signed = {
      dir: unsigned.dir,
      commit: execFileSync('git', ['-C', unsigned.dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
    };
    const result = await runSecureBuild(
      request(signed, { ref: 'refs/heads/main', signaturePolicy: { mode: 'ssh', allowedSigners }, rebuild: false }),
    );
    const source = JSON.parse(result.provenance.payload.toString('utf8')).predicate.buildDefinition
      .resolvedDependencies[0];
    expect(source.annotations).toMatchObject({
      reachableFrom: { ref: 'refs/heads/main', refCommit: signed.commit },
      signature: { method: 'ssh', signer: 'dev@wallet.example', keyFingerprint: expect.stringMatching(/^SHA256:/) },
    });
  });

  it('adds a per-build quote that binds the statement itself, and verifiers check it', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('mkdir -p out && echo ok > out/x') });
    const result = await runSecureBuild(request(repo, { perBuildEvidence: true, rebuild: false }));
    const policy = parsePolicy(
      `allowSimulated: true\nrequireReproducible: false\nrequireBuildEvidence: true\nrepositories: ["file://${repo.dir}"]`,
    );
    const report = verifyProvenanceBundle(result.provenance.bundle, { policy });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'build-evidence.statement-digest',
        'build-evidence.report-data.binding',
        'build-evidence.same-td',
      ]),
    );

    // The worker-key quote in place of the per-build one: its REPORTDATA binds the key, not this statement.
    const statement = JSON.parse(result.provenance.payload.toString('utf8'));
    const byproducts = statement.predicate.runDetails.byproducts as {
      name: string;
      content: string;
      digest: { sha256: string };
    }[];
    const keyQuote = byproducts.find((b) => b.name === 'tee-evidence');
    const buildQuote = byproducts.find((b) => b.name === 'tee-evidence-build');
    Object.assign(buildQuote ?? {}, { content: keyQuote?.content, digest: keyQuote?.digest });
    const swapped = await signProvenance(statement, identity.key);
    const failed = verifyProvenanceBundle(swapped.bundle, { policy })
      .checks.filter((c) => !c.ok)
      .map((c) => c.name);
    expect(failed).toContain('build-evidence.report-data.binding');

    // Without it, a policy that requires it refuses the bundle.
    const plain = await runSecureBuild(request(repo, { rebuild: false }));
    expect(
      verifyProvenanceBundle(plain.provenance.bundle, { policy })
        .checks.filter((c) => !c.ok)
        .map((c) => c.name),
    ).toEqual(['build-evidence.present']);
  });

  it('fails when a declared output is missing', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('true') });
    await expect(runSecureBuild(request(repo))).rejects.toMatchObject({ code: 'OUTPUT_MISSING' });
  });

  it('refuses a base image until registry pulls exist, before building', async () => {
    const base = `registry.example.com/org/base@sha256:${'a'.repeat(64)}`;
    const repo = repoWith({
      'securebuild.yaml': RECIPE('touch /tmp/ran', `  entrypoint: []\n`).replace('base: scratch', `base: ${base}`),
    });
    await expect(runSecureBuild(request(repo))).rejects.toMatchObject({ code: 'BASE_IMAGE_UNSUPPORTED' });
  });

  it('reports a missing recipe', async () => {
    const repo = repoWith({ 'README.md': 'no recipe' });
    await expect(runSecureBuild(request(repo))).rejects.toMatchObject({ code: 'RECIPE_NOT_FOUND' });
  });

  it('refuses to overwrite a non-empty output directory', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('true') });
    const req = request(repo);
    mkdirSync(req.outDir, { recursive: true });
    writeFileSync(join(req.outDir, 'keep.txt'), 'earlier result');
    await expect(runSecureBuild(req)).rejects.toMatchObject({ code: 'OUTPUT_DIR_NOT_EMPTY' });
    expect(readFileSync(join(req.outDir, 'keep.txt'), 'utf8')).toBe('earlier result');
  });

  it('validates inputs before touching git', async () => {
    const repo = repoWith({ 'securebuild.yaml': RECIPE('true') });
    await expect(runSecureBuild(request(repo, { commit: repo.commit.slice(0, 12) }))).rejects.toMatchObject({
      code: 'INVALID_COMMIT',
    });
    await expect(runSecureBuild(request(repo, { allowLocalRepo: false }))).rejects.toMatchObject({
      code: 'LOCAL_REPO_NOT_ALLOWED',
    });
    await expect(runSecureBuild(request(repo, { recipePath: '../etc/passwd' }))).rejects.toMatchObject({
      code: 'RECIPE_PATH_INVALID',
    });
  });
});
