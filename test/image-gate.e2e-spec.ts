import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { writeImageLayout } from '@secure-build/oci';
import { attachArtifact, MEDIA_TYPE_SIGSTORE_BUNDLE, pushImageLayout, RegistryClient } from '@secure-build/registry';

import { localBuildArgs, runCli } from './support/cli';
import { createFixtureRepo, FixtureRepo } from './support/git-fixture';
import { startTestRegistry, TestRegistry } from './support/registry';
import { Cleanup, createToken, writePolicy } from './support/service-fixture';
import { api, serviceEnv, startService, waitForBuild } from './support/service-harness';

interface BuildSummary {
  manifestDigest: string;
  published: {
    reference: string;
    tagged?: string;
    manifestDigest: string;
    attestation: { digest: string; via: string };
  };
}
interface GateResult {
  reference: string;
  digest: string;
  verified: boolean;
  accepted?: { id: string; bundleDigest: string; report: { summary: { commit?: string } } };
  attestations: { id: string; report: { verified: boolean; checks: { name: string; ok: boolean }[] } }[];
}

const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const skopeo = (...args: string[]): Buffer => execFileSync('skopeo', args, { maxBuffer: 64 * 1024 * 1024 });

describe('publishing images and the deployer gate (a real docker-registry on 127.0.0.1)', () => {
  const cleanup = new Cleanup();
  let registry: TestRegistry;
  let repo: FixtureRepo;
  let work: string;
  let policy: string;
  let built: BuildSummary;

  beforeAll(async () => {
    registry = await startTestRegistry();
    cleanup.add('registry', () => registry.stop());
    repo = createFixtureRepo();
    cleanup.add('fixture', () => rmSync(repo.dir, { recursive: true, force: true }));
    work = mkdtempSync(join(tmpdir(), 'sb-image-'));
    cleanup.add('work', () => rmSync(work, { recursive: true, force: true }));
    policy = writePolicy(work, `file://${repo.dir}`);

    const run = await runCli(
      localBuildArgs(
        repo.dir,
        repo.commits[0],
        join(work, 'out'),
        '--push',
        `${registry.host}/wallet/signer:1.0`,
        '--plain-http',
        '--quiet',
        '--json',
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    built = JSON.parse(run.stdout) as BuildSummary;
  }, 180_000);
  afterAll(() => cleanup.run());

  it('pushes the image by digest and by tag; skopeo reads back exactly our manifest', () => {
    const reference = `${registry.host}/wallet/signer@${built.manifestDigest}`;
    expect(built.published.reference).toBe(reference);
    expect(built.published.tagged).toBe(`${registry.host}/wallet/signer:1.0`);
    const raw = skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reference}`);
    expect(sha256(raw)).toBe(built.manifestDigest);
    expect(raw.equals(readFileSync(join(work, 'out/oci/blobs/sha256', built.manifestDigest.slice(7))))).toBe(true);
    const byTag = skopeo('inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/wallet/signer:1.0`);
    expect(sha256(byTag)).toBe(built.manifestDigest);
    // docker-registry 2.8 has no referrers API: the bundle is indexed under the sha256-<hex> tag.
    expect(built.published.attestation.via).toBe('tag-schema');
  });

  it('umoci unpacks the pushed image (copied out with skopeo) into the files the build produced', () => {
    const layout = join(work, 'pulled');
    skopeo('copy', '--src-tls-verify=false', `docker://${built.published.reference}`, `oci:${layout}:pulled`);
    const bundle = join(work, 'unpacked');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${layout}:pulled`, bundle]);
    expect(existsSync(join(bundle, 'rootfs/app/bin/server'))).toBe(true);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[] } };
    expect(config.process.args).toEqual(['/app/bin/server']);
  });

  it('verify-image finds the attached provenance and passes the policy (exit 0)', async () => {
    const run = await runCli(['verify-image', built.published.reference, '--policy', policy, '--plain-http']);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain(`VERIFIED: ${built.published.reference}`);
    expect(run.stdout).toContain('✔ dsse.signature');

    const json = await runCli([
      'verify-image',
      built.published.reference,
      '--policy',
      policy,
      '--plain-http',
      '--json',
    ]);
    const result = JSON.parse(json.stdout) as GateResult;
    expect(result).toMatchObject({ verified: true, digest: built.manifestDigest });
    expect(result.accepted?.report.summary.commit).toBe(repo.commits[0]);
    expect(result.accepted?.id).toBe(built.published.attestation.digest);
  });

  it('verify-image fails (exit 1) against a policy for another repository', async () => {
    const other = writePolicy(mkdtempSync(join(work, 'p-')), 'https://git.example.com/someone/else.git');
    const run = await runCli(['verify-image', built.published.reference, '--policy', other, '--plain-http']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('NOT VERIFIED');
  });

  it('an image without attached provenance fails (exit 1), and so does a bundle copied from another image', async () => {
    const client = new RegistryClient({ registry: registry.host, plainHttp: true });
    const layoutDir = join(work, 'unattested');
    const tree = join(work, 'unattested-tree');
    execFileSync('mkdir', ['-p', tree]);
    writeFileSync(join(tree, 'evil'), 'not built by secure-build\n');
    await writeImageLayout({ outDir: layoutDir, layers: [{ from: tree, to: '/app' }], sourceDateEpoch: 0, config: {} });
    const pushed = await pushImageLayout(client, 'wallet/signer', layoutDir);
    const reference = `${registry.host}/wallet/signer@${pushed.manifestDigest}`;

    const bare = await runCli(['verify-image', reference, '--policy', policy, '--plain-http']);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toContain('no provenance bundle is attached');

    // Replay: the genuine bundle of the signed image, attached to the unattested one.
    const genuine = readFileSync(join(work, 'out/provenance.sigstore.json'));
    await attachArtifact(client, 'wallet/signer', {
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: pushed.manifestDigest,
        size: pushed.manifestSize,
      },
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      blob: genuine,
      blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    });
    const replayed = await runCli(['verify-image', reference, '--policy', policy, '--plain-http', '--json']);
    expect(replayed.code).toBe(1);
    const result = JSON.parse(replayed.stdout) as GateResult;
    expect(result.attestations).toHaveLength(1);
    expect(result.attestations[0].report.checks.filter((c) => !c.ok).map((c) => c.name)).toContain('subject.digest');

    const snippet = await runCli(['deploy-snippet', reference, '--target', 'coco', '--policy', policy, '--plain-http']);
    expect(snippet.code).toBe(1);
    expect(snippet.stdout).toBe('');
    expect(snippet.stderr).toContain('not verified; no deployment snippet is emitted');
  });

  it('a tampered bundle attached to the signed image does not verify; the genuine one still does', async () => {
    const client = new RegistryClient({ registry: registry.host, plainHttp: true });
    const tampered = JSON.parse(readFileSync(join(work, 'out/provenance.sigstore.json'), 'utf8')) as {
      dsseEnvelope: { payload: string };
    };
    const payload = Buffer.from(tampered.dsseEnvelope.payload, 'base64').toString('utf8');
    tampered.dsseEnvelope.payload = Buffer.from(payload.replace(repo.commits[0], 'f'.repeat(40))).toString('base64');
    const imageManifest = readFileSync(join(work, 'out/oci/blobs/sha256', built.manifestDigest.slice(7)));
    await attachArtifact(client, 'wallet/signer', {
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: built.manifestDigest,
        size: imageManifest.length,
      },
      artifactType: MEDIA_TYPE_SIGSTORE_BUNDLE,
      blob: Buffer.from(JSON.stringify(tampered)),
      blobMediaType: MEDIA_TYPE_SIGSTORE_BUNDLE,
    });
    const run = await runCli(['verify-image', built.published.reference, '--policy', policy, '--plain-http', '--json']);
    const result = JSON.parse(run.stdout) as GateResult;
    expect(result.attestations).toHaveLength(2);
    const failing = result.attestations.find((a) => !a.report.verified);
    expect(failing?.report.checks.filter((c) => !c.ok).map((c) => c.name)).toContain('dsse.signature');
    expect(run.code).toBe(0); // the genuine bundle is still there and verifies
  });

  it('deploy-snippet emits a CoCo Pod and an HPVS workload pinned by digest for the verified image', async () => {
    const coco = await runCli([
      'deploy-snippet',
      built.published.reference,
      '--target',
      'coco',
      '--policy',
      policy,
      '--plain-http',
    ]);
    expect(coco.code, coco.stderr).toBe(0);
    const pod = parseYaml(coco.stdout) as {
      kind: string;
      metadata: { annotations: Record<string, string> };
      spec: { runtimeClassName: string; containers: { image: string }[] };
    };
    expect(pod.kind).toBe('Pod');
    expect(pod.spec.runtimeClassName).toBe('kata-qemu-tdx');
    expect(pod.spec.containers.map((c) => c.image)).toEqual([built.published.reference]);
    expect(pod.metadata.annotations['securebuild.dev/source-commit']).toBe(repo.commits[0]);

    const se = await runCli([
      'deploy-snippet',
      built.published.reference,
      '--target',
      'coco',
      '--tee',
      'se',
      '--policy',
      policy,
      '--plain-http',
    ]);
    expect((parseYaml(se.stdout) as { spec: { runtimeClassName: string } }).spec.runtimeClassName).toBe('kata-qemu-se');

    const hpvs = await runCli([
      'deploy-snippet',
      built.published.reference,
      '--target',
      'hpvs',
      '--policy',
      policy,
      '--plain-http',
    ]);
    expect(hpvs.code, hpvs.stderr).toBe(0);
    expect(hpvs.stdout).toContain(built.published.reference);
    expect(parseYaml(hpvs.stdout)).toMatchObject({ type: 'workload' });
  });

  it('refuses bad image references and targets with exit 2, naming the problem', async () => {
    const tagOnly = await runCli([
      'verify-image',
      `${registry.host}/wallet/signer:1.0`,
      '--policy',
      policy,
      '--plain-http',
    ]);
    expect(tagOnly.code).toBe(2);
    expect(tagOnly.stderr).toMatch(/digest/);
    const target = await runCli([
      'deploy-snippet',
      built.published.reference,
      '--target',
      'docker',
      '--policy',
      policy,
    ]);
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('--target must be hpvs or coco');
    const push = await runCli(localBuildArgs(repo.dir, repo.commits[0], join(work, 'x'), '--push', 'wallet:latest'));
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(/push target 'wallet:latest'/);
  });

  it('stacks the build on a base image pinned by digest and records it in resolvedDependencies', async () => {
    const base = `${registry.host}/wallet/signer@${built.manifestDigest}`;
    const derived = createFixtureRepo(undefined, {
      'securebuild.yaml': readFileSync(join(repo.dir, 'securebuild.yaml'), 'utf8')
        .replace('base: scratch', `base: ${base}`)
        .replace('- { from: dist, to: /app }', '- { from: dist, to: /srv }'),
    });
    cleanup.add('derived', () => rmSync(derived.dir, { recursive: true, force: true }));
    const out = join(work, 'derived');
    const run = await runCli(
      localBuildArgs(
        derived.dir,
        derived.commits[1],
        out,
        '--push',
        `${registry.host}/wallet/derived`,
        '--plain-http',
        '--quiet',
        '--json',
        '--no-rebuild',
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as BuildSummary & { diffIds: string[] };
    const baseManifest = JSON.parse(
      readFileSync(join(work, 'out/oci/blobs/sha256', built.manifestDigest.slice(7)), 'utf8'),
    ) as {
      layers: { digest: string }[];
    };
    const manifest = JSON.parse(
      readFileSync(join(out, 'oci/blobs/sha256', summary.manifestDigest.slice(7)), 'utf8'),
    ) as {
      layers: { digest: string }[];
    };
    expect(manifest.layers).toHaveLength(2);
    expect(manifest.layers[0].digest).toBe(baseManifest.layers[0].digest);

    const bundle = JSON.parse(readFileSync(join(out, 'provenance.sigstore.json'), 'utf8')) as {
      dsseEnvelope: { payload: string };
    };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      predicate: { buildDefinition: { resolvedDependencies: { uri: string; digest: Record<string, string> }[] } };
    };
    expect(statement.predicate.buildDefinition.resolvedDependencies).toContainEqual(
      expect.objectContaining({ uri: `oci://${base}`, digest: { sha256: built.manifestDigest.slice(7) } }),
    );

    const unpacked = join(work, 'derived-unpacked');
    skopeo(
      'copy',
      '--src-tls-verify=false',
      `docker://${summary.published.reference}`,
      `oci:${join(work, 'derived-oci')}:x`,
    );
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${join(work, 'derived-oci')}:x`, unpacked]);
    expect(existsSync(join(unpacked, 'rootfs/app/bin/server'))).toBe(true);
    expect(existsSync(join(unpacked, 'rootfs/srv/bin/server'))).toBe(true);
  }, 120_000);

  it('rebuild <bundle>: an independent rebuild reproduces the digest and signs an attestation linking both', async () => {
    const out = join(work, 'rebuilt');
    const run = await runCli([
      'rebuild',
      join(work, 'out/provenance.sigstore.json'),
      '--out',
      out,
      '--allow-local-repo',
      '--plain-http',
      '--quiet',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { reproduced: boolean; manifestDigest: string; attestationPath: string };
    expect(result).toMatchObject({ reproduced: true, manifestDigest: built.manifestDigest });
    const attestation = JSON.parse(readFileSync(result.attestationPath, 'utf8')) as {
      dsseEnvelope: { payload: string };
    };
    const statement = JSON.parse(Buffer.from(attestation.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      subject: { digest: { sha256: string } }[];
      predicateType: string;
      predicate: {
        reproduced: boolean;
        original: { bundle: { sha256: string } };
        rebuild: { bundle: { sha256: string } };
      };
    };
    expect(statement.predicateType).toBe('https://securebuild.dev/rebuild/v1');
    expect(statement.subject[0].digest.sha256).toBe(built.manifestDigest.slice(7));
    expect(statement.predicate.reproduced).toBe(true);
    expect(`sha256:${statement.predicate.original.bundle.sha256}`).toBe(
      sha256(readFileSync(join(work, 'out/provenance.sigstore.json'))),
    );
    expect(`sha256:${statement.predicate.rebuild.bundle.sha256}`).toBe(
      sha256(JSON.stringify(JSON.parse(readFileSync(join(out, 'provenance.sigstore.json'), 'utf8')))),
    );
  }, 120_000);

  it('rebuild of a non-reproducible build exits 1 and lists the differing files', async () => {
    const flaky = createFixtureRepo(undefined, {
      'build.sh': `${readFileSync(join(repo.dir, 'build.sh'), 'utf8')}\nhead -c 16 /dev/urandom | od -An -tx1 > dist/nonce\n`,
    });
    cleanup.add('flaky', () => rmSync(flaky.dir, { recursive: true, force: true }));
    const first = await runCli(
      localBuildArgs(
        flaky.dir,
        flaky.commits[1],
        join(work, 'flaky'),
        '--push',
        `${registry.host}/wallet/flaky`,
        '--plain-http',
        '--quiet',
        '--no-rebuild',
      ),
    );
    expect(first.code, first.stderr).toBe(0);
    const run = await runCli([
      'rebuild',
      join(work, 'flaky/provenance.sigstore.json'),
      '--out',
      join(work, 'flaky-rebuilt'),
      '--allow-local-repo',
      '--plain-http',
      '--quiet',
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('DIFFERENT');
    expect(run.stdout).toMatch(/differs: \/app\/nonce/);
    expect(existsSync(join(work, 'flaky-rebuilt/rebuild.sigstore.json'))).toBe(true);
  }, 120_000);

  it('rebuild refuses what is not a bundle, and a build id without --server (exit 2)', async () => {
    const notBundle = join(work, 'not-a-bundle.json');
    writeFileSync(notBundle, '{"hello": 1}');
    const bad = await runCli(['rebuild', notBundle, '--out', join(work, 'r1')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a provenance bundle');
    const id = await runCli(['rebuild', '7c9e6679-7425-40de-944b-e07fc1f90ae7', '--out', join(work, 'r2')]);
    expect(id.code).toBe(2);
    expect(id.stderr).toContain('add --server');
  });

  it('refuses a base image given by tag before building anything', async () => {
    const tagged = createFixtureRepo(undefined, {
      'securebuild.yaml': readFileSync(join(repo.dir, 'securebuild.yaml'), 'utf8').replace(
        'base: scratch',
        `base: ${registry.host}/wallet/signer:1.0`,
      ),
    });
    cleanup.add('tagged', () => rmSync(tagged.dir, { recursive: true, force: true }));
    const run = await runCli(localBuildArgs(tagged.dir, tagged.commits[1], join(work, 'tagged'), '--plain-http'));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/image\.base.*tags are not pins/);
  });
});

describe('the service pushes a build that names imageName; the wallet operator gates the deploy on it', () => {
  const cleanup = new Cleanup();
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry();
    cleanup.add('registry', () => registry.stop());
  });
  afterAll(() => cleanup.run());

  it('REST build → worker pushes image + bundle → verify-image (registry and --server) → deploy snippet', async () => {
    const repo = createFixtureRepo();
    cleanup.add('fixture', () => rmSync(repo.dir, { recursive: true, force: true }));
    const env = serviceEnv({ SECURE_BUILD_REGISTRY_PLAIN_HTTP: registry.host });
    cleanup.add('data', () => rmSync(env.SECURE_BUILD_DATA_DIR, { recursive: true, force: true }));
    const service = await startService('combined', env);
    cleanup.add('service', async () => void (await service.stop()));
    const writer = await createToken(service.url, 'ci', ['builds:write', 'builds:read', 'provenance:read']);

    const imageName = `${registry.host}/wallet/signer:2.0`;
    const accepted = await api<{ id: string }>(service.url, 'POST', '/v1/builds', {
      token: writer,
      body: { repository: repo.dir, commit: repo.commits[0], ref: 'refs/heads/main', imageName },
    });
    expect(accepted.status, accepted.text).toBe(202);
    const build = (await waitForBuild(service.url, writer, accepted.body.id)) as {
      status: string;
      manifestDigest: string;
      published: { reference: string; attestationDigest: string } | null;
      stages: { stage: string }[];
    };
    expect(build.status, JSON.stringify(build)).toBe('succeeded');
    const reference = `${registry.host}/wallet/signer@${build.manifestDigest}`;
    expect(build.published?.reference).toBe(reference);
    expect(build.stages.map((s) => s.stage)).toContain('publish');

    const work = mkdtempSync(join(tmpdir(), 'sb-gate-'));
    cleanup.add('work', () => rmSync(work, { recursive: true, force: true }));
    const policy = writePolicy(work, `file://${repo.dir}`);
    const fromRegistry = await runCli(['verify-image', reference, '--policy', policy, '--plain-http']);
    expect(fromRegistry.code, fromRegistry.stdout + fromRegistry.stderr).toBe(0);
    const fromServer = await runCli(['verify-image', reference, '--policy', policy, '--server', service.url], {
      SECURE_BUILD_TOKEN: writer,
    });
    expect(fromServer.code, fromServer.stdout + fromServer.stderr).toBe(0);

    const snippet = await runCli(['deploy-snippet', reference, '--target', 'hpvs', '--policy', policy, '--plain-http']);
    expect(snippet.code, snippet.stderr).toBe(0);
    expect(snippet.stdout).toContain(reference);
    expect(snippet.stdout).toContain(`securebuild.dev/build-id`);

    // The auditor's independent rebuild, by build id, on another builder (this CLI).
    const rebuilt = await runCli(
      [
        'rebuild',
        accepted.body.id,
        '--server',
        service.url,
        '--out',
        join(work, 'rebuilt'),
        '--allow-local-repo',
        '--plain-http',
        '--quiet',
      ],
      { SECURE_BUILD_TOKEN: writer },
    );
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain('REPRODUCED');
  }, 180_000);
});
