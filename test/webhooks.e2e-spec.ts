import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createThrowawayDatabase, ThrowawayDatabase } from '@secure-build/store';
import { signWebhookBody } from '@secure-build/webhooks';

import { runCli } from './support/cli';
import {
  CommitInfo,
  CommitSigner,
  createForgeRepo,
  createGpgSigner,
  createSshSigner,
  deliver,
  Delivery,
  Forge,
  ForgeRepo,
  forgeHeaders,
  makeDelivery,
  payloadRepository,
  PushSpec,
  pushDelivery,
  ZERO_SHA,
} from './support/forge';
import { GitHttpServer, startGitHttpServer } from './support/git-http-server';
import { Cleanup, createToken, deleteQueueKeys, stopService } from './support/service-fixture';
import { api, serviceEnv, startService, TEST_ADMIN_TOKEN, waitForBuild } from './support/service-harness';

const SECRET = 'e2e-webhook-secret-0123456789abcdef';
const FORGES: Forge[] = ['github', 'gitlab', 'gitea', 'forgejo'];
const ALLOWED_REFS = ['refs/heads/main', 'refs/tags/v*'];
const UUID = /^[0-9a-f-]{36}$/;

/** Real GitHub bodies (octokit/webhooks examples), next to the repository checkout. */
const GITHUB_TESTDATA = resolve(__dirname, '../../shared/testdata/webhooks/github');
const hasGithubTestdata = existsSync(join(GITHUB_TESTDATA, 'push-with-new-branch.payload.json'));
if (!hasGithubTestdata) {
  console.warn(`[webhooks.e2e] real GitHub payload tests SKIPPED: ${GITHUB_TESTDATA} not found`);
}

interface BuildView {
  id: string;
  status: string;
  repository: string;
  commit: string;
  ref: string | null;
  attempts: number;
  failure: { code: string; reason: string } | null;
  stages: { stage: string; attempt: number; durationMs: number | null }[];
}

interface ProjectView {
  id: string;
  name: string;
  repository: string;
  webhook: { provider: string; secretConfigured: boolean; url: string } | null;
}

/** The parts of the SLSA statement these tests look at. */
interface Statement {
  predicate: {
    buildDefinition: {
      externalParameters: { source: { repository: string; ref?: string; commit: string } };
      resolvedDependencies: {
        uri: string;
        digest: { gitCommit?: string };
        annotations?: {
          reachableFrom?: { ref: string; refCommit: string };
          signature?: { method: string; signer?: string; keyFingerprint?: string };
        };
      }[];
    };
  };
}

describe('webhooks: a forge push starts a pinned build (API + worker on Redis + PostgreSQL, smart-HTTP git)', () => {
  const cleanup = new Cleanup();
  let db: ThrowawayDatabase;
  let url: string;
  let git: GitHttpServer;
  let work: string;
  let auditor: string;

  beforeAll(async () => {
    db = await createThrowawayDatabase();
    cleanup.add('drop database', () => db.drop());
    const env = serviceEnv({ DATABASE_URL: db.url, SECURE_BUILD_WORKER_CONCURRENCY: '4' });
    cleanup.add('data dir', () => rmSync(env.SECURE_BUILD_DATA_DIR, { recursive: true, force: true }));
    cleanup.add('queue keys', () => deleteQueueKeys(env.SECURE_BUILD_QUEUE_PREFIX));
    const [apiProcess, worker] = await Promise.all([startService('api', env), startService('worker', env)]);
    cleanup.add('stop api', () => stopService(apiProcess));
    cleanup.add('stop worker', () => stopService(worker));
    url = apiProcess.url;
    git = await startGitHttpServer();
    cleanup.add('stop git server', () => git.close());
    work = cleanup.tempDir('sb-webhooks-');
    auditor = await createToken(url, 'auditor', ['provenance:read']);
  });

  afterAll(() => cleanup.run());

  // ---------------------------------------------------------------------------------------------
  // helpers

  async function createProject(
    name: string,
    repository: string,
    provider: Forge,
    extra: Record<string, unknown> = {},
  ): Promise<ProjectView> {
    const res = await api<ProjectView>(url, 'POST', '/v1/projects', {
      token: TEST_ADMIN_TOKEN,
      body: { name, repository, allowedRefs: ALLOWED_REFS, webhook: { provider, secret: SECRET }, ...extra },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.repository).toBe(repository);
    expect(res.body.webhook).toMatchObject({ provider, secretConfigured: true });
    expect(res.body.webhook?.url).toMatch(new RegExp(`/v1/webhooks/${provider}/${name}$`));
    expect(res.text).not.toContain(SECRET);
    return res.body;
  }

  async function newRepoWithProject(name: string, provider: Forge, extra: Record<string, unknown> = {}) {
    const repo = await createForgeRepo(git, `org/${name}.git`, work);
    await createProject(name, repo.url, provider, extra);
    return repo;
  }

  /** Commits on the current branch, pushes `branch` and returns what a push webhook describes. */
  async function commitAndPush(
    repo: ForgeRepo,
    message: string,
    options: { branch?: string; sign?: CommitSigner } = {},
  ): Promise<PushSpec> {
    const branch = options.branch ?? 'main';
    const before = await repo.head();
    const after = await repo.commit(message, { sign: options.sign });
    await repo.push(branch);
    return { ref: `refs/heads/${branch}`, before, after, commits: await repo.describe([after]) };
  }

  async function countBuilds(): Promise<number> {
    const res = await api<{ items: unknown[]; nextCursor: string | null }>(url, 'GET', '/v1/builds?limit=200', {
      token: TEST_ADMIN_TOKEN,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.items.length;
  }

  async function getBuild(id: string): Promise<BuildView> {
    const res = await api<BuildView>(url, 'GET', `/v1/builds/${id}`, { token: TEST_ADMIN_TOKEN });
    expect(res.status, res.text).toBe(200);
    return res.body;
  }

  /** Delivers and expects 202 {outcome: 'build'}; returns the finished build. */
  async function deliverAndBuild(project: string, delivery: Delivery): Promise<BuildView> {
    const answer = await deliver(url, project, delivery);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body).toMatchObject({ deliveryId: delivery.deliveryId, outcome: 'build' });
    expect(answer.body.buildId).toMatch(UUID);
    return (await waitForBuild(url, TEST_ADMIN_TOKEN, answer.body.buildId as string)) as unknown as BuildView;
  }

  /** Delivers and expects 202 {outcome: 'ignored'} with a reason; nothing is built. */
  async function deliverIgnored(project: string, delivery: Delivery, reason: RegExp): Promise<void> {
    const builds = await countBuilds();
    const answer = await deliver(url, project, delivery);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body).toMatchObject({ deliveryId: delivery.deliveryId, outcome: 'ignored', buildId: null });
    expect(answer.body.reason).toMatch(reason);
    expect(await countBuilds()).toBe(builds);
  }

  async function statementOf(buildId: string): Promise<Statement> {
    const res = await api(url, 'GET', `/v1/builds/${buildId}/provenance`, { token: auditor });
    expect(res.status, res.text).toBe(200);
    const bundle = JSON.parse(res.text) as { dsseEnvelope: { payload: string } };
    return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as Statement;
  }

  function expectSucceeded(build: BuildView): void {
    expect(build.status, JSON.stringify(build.failure)).toBe('succeeded');
    expect(build.stages.map((s) => s.stage)).toEqual(expect.arrayContaining(['source', 'verify', 'build']));
  }

  /** A failed build whose sources were checked but never built (no recipe, build or image stage). */
  function expectRefusedBeforeBuild(build: BuildView, code: string): void {
    expect(build.status).toBe('failed');
    expect(build.failure?.code, build.failure?.reason).toBe(code);
    expect(build.attempts).toBe(1); // terminal: not retried
    const stages = build.stages.map((s) => s.stage);
    expect(stages).toContain('verify');
    for (const never of ['recipe', 'build', 'image', 'rebuild', 'provenance']) expect(stages).not.toContain(never);
  }

  /** Provenance of a succeeded build: source ref, commit, and the ref it was proven reachable from. */
  async function expectProvenance(build: BuildView, repository: string, ref: string, commit: string) {
    const statement = await statementOf(build.id);
    const { externalParameters, resolvedDependencies } = statement.predicate.buildDefinition;
    expect(externalParameters.source).toEqual({ repository, ref, commit });
    expect(resolvedDependencies[0].uri).toBe(`git+${repository}@${ref}`);
    expect(resolvedDependencies[0].digest).toEqual({ gitCommit: commit });
    expect(resolvedDependencies[0].annotations?.reachableFrom).toEqual({
      ref,
      refCommit: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    return statement;
  }

  async function cliVerify(buildId: string, repository: string, refs: string[]): Promise<number | null> {
    const policy = join(work, `policy-${buildId}.yaml`);
    writeFileSync(
      policy,
      `allowSimulated: true\nrepositories: ["${repository}"]\nrefs: ${JSON.stringify(refs)}\nrequireReproducible: true\n`,
    );
    const verify = await runCli(['verify', '--server', url, '--build', buildId, '--policy', policy], {
      SECURE_BUILD_TOKEN: auditor,
    });
    if (verify.code !== 1) expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    return verify.code;
  }

  // ---------------------------------------------------------------------------------------------

  describe.each(FORGES)('%s push to main', (forge) => {
    const project = `${forge}-app`;
    let repo: ForgeRepo;
    let delivery: Delivery;
    let build: BuildView;

    it('answers 202 with a build, which succeeds with ref and reachability in its provenance', async () => {
      repo = await newRepoWithProject(project, forge);
      const push = await commitAndPush(repo, `${forge} change`);
      delivery = pushDelivery(forge, push, payloadRepository(repo), SECRET);
      build = await deliverAndBuild(project, delivery);
      expectSucceeded(build);
      expect(build).toMatchObject({ repository: repo.url, commit: push.after, ref: 'refs/heads/main' });
      const statement = await expectProvenance(build, repo.url, 'refs/heads/main', push.after);
      expect(statement.predicate.buildDefinition.resolvedDependencies[0].annotations?.reachableFrom?.refCommit).toBe(
        push.after,
      );
      expect(await cliVerify(build.id, repo.url, ['refs/heads/main'])).toBe(0);
    });

    it('answers a redelivery (same delivery id) with 200 and the same build, queueing nothing', async () => {
      const builds = await countBuilds();
      // GitLab retries keep Idempotency-Key but send a new X-Gitlab-Event-UUID.
      const again =
        forge === 'gitlab'
          ? makeDelivery(forge, delivery.body, SECRET, { event: 'Push Hook', deliveryId: delivery.deliveryId })
          : delivery;
      const answer = await deliver(url, project, again);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({
        deliveryId: delivery.deliveryId,
        outcome: 'build',
        buildId: build.id,
        duplicate: true,
      });
      expect(await countBuilds()).toBe(builds);
      const after = await getBuild(build.id);
      expect(after).toMatchObject({ status: 'succeeded', attempts: build.attempts });
    });
  });

  it('two simultaneous deliveries of one delivery id create one build (202 once, 200 for the other)', async () => {
    const repo = await newRepoWithProject('racing-app', 'gitlab');
    const push = await commitAndPush(repo, 'raced');
    const delivery = pushDelivery('gitlab', push, payloadRepository(repo), SECRET);
    const builds = await countBuilds();
    const answers = await Promise.all([1, 2, 3].map(() => deliver(url, 'racing-app', delivery)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    const ids = new Set(answers.map((a) => a.body.buildId));
    expect(ids.size).toBe(1);
    expect(await countBuilds()).toBe(builds + 1);
    const build = await waitForBuild(url, TEST_ADMIN_TOKEN, [...ids][0] as string);
    expect(build).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  describe('tag pushes', () => {
    async function tagAndPush(repo: ForgeRepo, name: string, annotated: boolean) {
      await commitAndPush(repo, `release ${name}`);
      const tag = await repo.tag(name, { annotated });
      await repo.push(tag.ref);
      const [info] = await repo.describe([tag.commit]);
      return { tag, info };
    }

    it('github: a lightweight tag refs/tags/v1.0.0 builds the tagged commit', async () => {
      const repo = await newRepoWithProject('github-tags', 'github');
      const { tag, info } = await tagAndPush(repo, 'v1.0.0', false);
      expect(tag.target).toBe(tag.commit);
      const delivery = pushDelivery(
        'github',
        {
          ref: tag.ref,
          before: ZERO_SHA,
          after: tag.target,
          commits: [],
          headCommit: info,
          baseRef: 'refs/heads/main',
        },
        payloadRepository(repo),
        SECRET,
      );
      const build = await deliverAndBuild('github-tags', delivery);
      expectSucceeded(build);
      expect(build).toMatchObject({ commit: tag.commit, ref: 'refs/tags/v1.0.0' });
      await expectProvenance(build, repo.url, 'refs/tags/v1.0.0', tag.commit);
      expect(await cliVerify(build.id, repo.url, ['refs/tags/v*'])).toBe(0);
      // The same bundle fails a policy that only admits main: the ref is part of what is verified.
      expect(await cliVerify(build.id, repo.url, ['refs/heads/main'])).toBe(1);
    });

    it('github: an annotated tag (after = the tag object, head_commit = the commit) builds the commit', async () => {
      const repo = await newRepoWithProject('github-annotated', 'github');
      const { tag, info } = await tagAndPush(repo, 'v2.0.0', true);
      expect(tag.target).not.toBe(tag.commit);
      const delivery = pushDelivery(
        'github',
        {
          ref: tag.ref,
          before: ZERO_SHA,
          after: tag.target,
          commits: [],
          headCommit: info,
          baseRef: 'refs/heads/main',
        },
        payloadRepository(repo),
        SECRET,
      );
      const build = await deliverAndBuild('github-annotated', delivery);
      expectSucceeded(build);
      expect(build).toMatchObject({ commit: tag.commit, ref: 'refs/tags/v2.0.0' });
      await expectProvenance(build, repo.url, 'refs/tags/v2.0.0', tag.commit);
    });

    it("gitlab: a Tag Push Hook of an annotated tag builds checkout_sha (the tag's commit)", async () => {
      const repo = await newRepoWithProject('gitlab-tags', 'gitlab');
      const { tag } = await tagAndPush(repo, 'v1.0.0', true);
      expect(tag.target).not.toBe(tag.commit);
      const delivery = pushDelivery(
        'gitlab',
        { ref: tag.ref, before: ZERO_SHA, after: tag.target, checkoutSha: tag.commit, commits: [] },
        payloadRepository(repo),
        SECRET,
      );
      expect(delivery.headers['X-Gitlab-Event']).toBe('Tag Push Hook');
      expect(JSON.parse(delivery.body.toString())).toMatchObject({ object_kind: 'tag_push', checkout_sha: tag.commit });
      const build = await deliverAndBuild('gitlab-tags', delivery);
      expectSucceeded(build);
      expect(build).toMatchObject({ commit: tag.commit, ref: 'refs/tags/v1.0.0' });
      await expectProvenance(build, repo.url, 'refs/tags/v1.0.0', tag.commit);
      expect(await cliVerify(build.id, repo.url, ['refs/tags/v*'])).toBe(0);
    });
  });

  describe('pushes that build nothing', () => {
    let repo: ForgeRepo;

    beforeAll(async () => {
      repo = await newRepoWithProject('quiet-app', 'github');
    });

    it('a push to a branch outside allowedRefs is acknowledged and ignored, with the reason', async () => {
      await repo.checkout('feature/x');
      const push = await commitAndPush(repo, 'feature work', { branch: 'feature/x' });
      await repo.checkout('main');
      await deliverIgnored(
        'quiet-app',
        pushDelivery('github', push, payloadRepository(repo), SECRET),
        /refs\/heads\/feature\/x is not among the project's allowed refs \(refs\/heads\/main, refs\/tags\/v\*\)/,
      );
    });

    it('a branch deletion (deleted: true, after all zeros) is acknowledged and ignored', async () => {
      const tip = await repo.git(['rev-parse', 'refs/heads/feature/x']);
      await repo.push(':refs/heads/feature/x');
      const push: PushSpec = { ref: 'refs/heads/feature/x', before: tip, after: ZERO_SHA, commits: [] };
      const body = JSON.parse(pushDelivery('github', push, payloadRepository(repo), SECRET).body.toString()) as {
        deleted: boolean;
        head_commit: unknown;
      };
      expect(body).toMatchObject({ deleted: true, head_commit: null });
      await deliverIgnored('quiet-app', pushDelivery('github', push, payloadRepository(repo), SECRET), /deleted/);
    });

    it('a deletion of main, as GitLab sends it (after zeros, checkout_sha null), is ignored', async () => {
      const gitlab = await newRepoWithProject('quiet-gitlab', 'gitlab');
      const push: PushSpec = { ref: 'refs/heads/main', before: await gitlab.head(), after: ZERO_SHA, commits: [] };
      const delivery = pushDelivery('gitlab', push, payloadRepository(gitlab), SECRET);
      expect(JSON.parse(delivery.body.toString())).toMatchObject({ checkout_sha: null, total_commits_count: 0 });
      await deliverIgnored('quiet-gitlab', delivery, /refs\/heads\/main was deleted/);
    });
  });

  describe.skipIf(!hasGithubTestdata)('real GitHub payloads (octokit/webhooks examples)', () => {
    const project = 'hello-world';
    let repo: ForgeRepo;

    beforeAll(async () => {
      // Same owner/name as the payloads, served locally; the project also allows master.
      repo = await createForgeRepo(git, 'Codertocat/Hello-World.git', work);
      await createProject(project, repo.url, 'github', { allowedRefs: ['refs/heads/master', ...ALLOWED_REFS] });
    });

    /** The file with its repository URLs pointed at the local repository and, if given, `after` at `commit`. */
    function rewritten(name: string, commit?: CommitInfo): Buffer {
      const payload = JSON.parse(readFileSync(join(GITHUB_TESTDATA, name), 'utf8')) as {
        after: string;
        repository: Record<string, unknown>;
        head_commit: Record<string, unknown> | null;
        commits: Record<string, unknown>[];
      };
      const r = payload.repository;
      expect(r.full_name).toBe('Codertocat/Hello-World');
      Object.assign(r, {
        clone_url: repo.url,
        html_url: repo.webUrl,
        svn_url: repo.webUrl,
        url: repo.webUrl,
        git_url: repo.url.replace(/^http:/, 'git:'),
        ssh_url: repo.sshUrl,
      });
      if (commit) {
        payload.after = commit.id;
        for (const c of [payload.head_commit ?? {}, ...payload.commits]) {
          c.id = commit.id;
          c.tree_id = commit.treeId;
        }
      }
      return Buffer.from(`${JSON.stringify(payload, null, 2)}\n`, 'utf8');
    }

    function githubDelivery(body: Buffer, event = 'push'): Delivery {
      return makeDelivery('github', body, SECRET, { event });
    }

    it.each(['push-with-new-branch.payload.json', 'push-with-no-username-committer.payload.json'])(
      '%s, rewritten to the local repository, builds refs/heads/master',
      async (file) => {
        await repo.commit(`master change for ${file}`);
        await repo.push('main:master');
        const [info] = await repo.describe([await repo.head()]);
        const build = await deliverAndBuild(project, githubDelivery(rewritten(file, info)));
        expectSucceeded(build);
        expect(build).toMatchObject({ commit: info.id, ref: 'refs/heads/master' });
        await expectProvenance(build, repo.url, 'refs/heads/master', info.id);
      },
    );

    it.each(['push-payload.json', 'push-with-organization.payload.json'])(
      '%s (a tag deletion) is acknowledged, ignored and builds nothing',
      async (file) => {
        await deliverIgnored(project, githubDelivery(rewritten(file)), /refs\/tags\/simple-tag was deleted/);
      },
    );

    it('ping-payload.json, byte for byte, is acknowledged and ignored', async () => {
      const body = readFileSync(join(GITHUB_TESTDATA, 'ping-payload.json'));
      await deliverIgnored(project, githubDelivery(body, 'ping'), /^ping/);
    });
  });

  describe('commit signature policy', () => {
    it('ssh: the allowed key builds and is recorded; unsigned and foreign-key commits are refused before any build', async () => {
      const keys = cleanup.tempDir('sb-ssh-keys-');
      const [allowed, other] = await Promise.all([createSshSigner(keys, 'allowed'), createSshSigner(keys, 'other')]);
      const repo = await newRepoWithProject('ssh-signed', 'github', {
        signaturePolicy: { mode: 'ssh', allowedSigners: allowed.allowedSigners('dev@example.com') },
      });
      const deliverPush = (push: PushSpec) =>
        deliverAndBuild('ssh-signed', pushDelivery('github', push, payloadRepository(repo), SECRET));

      const signed = await commitAndPush(repo, 'signed by the allowed key', { sign: allowed });
      const good = await deliverPush(signed);
      expectSucceeded(good);
      const statement = await expectProvenance(good, repo.url, 'refs/heads/main', signed.after);
      expect(statement.predicate.buildDefinition.resolvedDependencies[0].annotations?.signature).toEqual({
        method: 'ssh',
        signer: 'dev@example.com',
        keyFingerprint: allowed.fingerprint,
      });
      expect(allowed.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);

      expectRefusedBeforeBuild(await deliverPush(await commitAndPush(repo, 'unsigned')), 'SIGNATURE_MISSING');
      const foreign = await deliverPush(await commitAndPush(repo, 'signed by another key', { sign: other }));
      expectRefusedBeforeBuild(foreign, 'SIGNATURE_UNTRUSTED');
    });

    it('openpgp: the allowed fingerprint builds and is recorded; other keys are SIGNATURE_UNTRUSTED', async () => {
      const home = cleanup.tempDir('sb-gpg-work-');
      const allowed = await createGpgSigner(home, 'Dev <dev@example.com>');
      cleanup.add('gpg allowed', () => allowed.close());
      const other = await createGpgSigner(home, 'Other <other@example.com>');
      cleanup.add('gpg other', () => other.close());
      // Both public keys are in the keyring the worker verifies with, but only one fingerprint is
      // allowed: a good signature by a known key is not trust (the OpenPGP trust trap).
      const repo = await newRepoWithProject('pgp-signed', 'gitea', {
        signaturePolicy: {
          mode: 'openpgp',
          fingerprints: [allowed.fingerprint.toLowerCase()],
          publicKeys: `${allowed.publicKey}\n${other.publicKey}`,
        },
      });
      const deliverPush = (push: PushSpec) =>
        deliverAndBuild('pgp-signed', pushDelivery('gitea', push, payloadRepository(repo), SECRET));

      const signed = await commitAndPush(repo, 'signed with the allowed OpenPGP key', { sign: allowed });
      const good = await deliverPush(signed);
      expectSucceeded(good);
      const statement = await expectProvenance(good, repo.url, 'refs/heads/main', signed.after);
      expect(statement.predicate.buildDefinition.resolvedDependencies[0].annotations?.signature).toEqual({
        method: 'openpgp',
        signer: 'Dev <dev@example.com>',
        keyFingerprint: allowed.fingerprint,
      });

      const known = await deliverPush(await commitAndPush(repo, 'signed by a known, not allowed key', { sign: other }));
      expectRefusedBeforeBuild(known, 'SIGNATURE_UNTRUSTED');
      expect(known.failure?.reason).toContain(other.fingerprint);

      // A key whose public part the policy does not even hold.
      const stranger = await createGpgSigner(home, 'Stranger <stranger@example.com>');
      cleanup.add('gpg stranger', () => stranger.close());
      const unknown = await deliverPush(await commitAndPush(repo, 'signed by an unknown key', { sign: stranger }));
      expectRefusedBeforeBuild(unknown, 'SIGNATURE_UNTRUSTED');

      expectRefusedBeforeBuild(await deliverPush(await commitAndPush(repo, 'unsigned')), 'SIGNATURE_MISSING');
    });
  });

  it('a commit that is in the repository but not on the pushed ref fails NOT_REACHABLE and builds nothing', async () => {
    const repo = await newRepoWithProject('reach-app', 'github');
    const mainTip = await repo.head();
    await repo.checkout('side');
    const side = await commitAndPush(repo, 'only on side', { branch: 'side' });
    await repo.checkout('main');
    // The delivery claims main moved to the side commit; the server does hold that commit.
    const claim: PushSpec = { ...side, ref: 'refs/heads/main', before: mainTip };
    const build = await deliverAndBuild('reach-app', pushDelivery('github', claim, payloadRepository(repo), SECRET));
    expectRefusedBeforeBuild(build, 'NOT_REACHABLE');
    expect(build.failure?.reason).toContain(side.after);
    expect(build.failure?.reason).toContain('refs/heads/main');
  });

  describe('the clone URL always comes from the project', () => {
    let repo: ForgeRepo;
    let decoy: ForgeRepo;

    beforeAll(async () => {
      repo = await newRepoWithProject('clone-app', 'github');
      // Another repository on the same server that holds the same history plus a commit of its own.
      decoy = await createForgeRepo(git, 'org/decoy.git', work);
    });

    it("builds from the project's repository when the payload's clone_url names another one", async () => {
      const push = await commitAndPush(repo, 'real change');
      await decoy.git(['fetch', '-q', repo.url, 'main']);
      await decoy.git(['reset', '-q', '--hard', push.after]);
      await decoy.commit('decoy change');
      await decoy.push('+main');
      const decoyUrls = payloadRepository(decoy);
      // Everything but the clone URLs still names the project's repository (id, full_name, html_url, ssh_url).
      const delivery = pushDelivery('github', push, payloadRepository(repo, { cloneUrl: decoyUrls.cloneUrl }), SECRET);
      expect(JSON.parse(delivery.body.toString())).toMatchObject({
        repository: { clone_url: decoy.url, git_url: decoy.url.replace(/^http:/, 'git:') },
      });

      const firstRequest = git.requests.length;
      const build = await deliverAndBuild('clone-app', delivery);
      expectSucceeded(build);
      expect(build.repository).toBe(repo.url);
      await expectProvenance(build, repo.url, 'refs/heads/main', push.after);

      const workerRequests = git.requests.slice(firstRequest);
      expect(workerRequests.length).toBeGreaterThan(0);
      expect(workerRequests.filter((r) => r.path.startsWith('/org/decoy.git'))).toEqual([]);
      for (const request of workerRequests) {
        expect(request.path.startsWith('/org/clone-app.git/'), request.path).toBe(true);
        expect(request.service).toBe('git-upload-pack'); // fetches only, never a push
        expect(request.gitProtocol).toBe('version=2');
      }
    });

    it('refuses (400, field repository) a payload whose every repository URL names another repository', async () => {
      const push = await commitAndPush(repo, 'another change');
      const builds = await countBuilds();
      const firstRequest = git.requests.length;
      const answer = await deliver(
        url,
        'clone-app',
        pushDelivery('github', push, payloadRepository(decoy, { id: repo.id }), SECRET),
      );
      expect(answer.status, answer.text).toBe(400);
      expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'repository' });
      expect(await countBuilds()).toBe(builds);
      expect(git.requests.slice(firstRequest)).toEqual([]);
    });
  });

  it('forge.ts signs like libs/webhooks signWebhookBody for every header both produce', () => {
    const body = Buffer.from('{"zen":"Design for failure."}');
    for (const forge of FORGES) {
      const ours = Object.fromEntries(
        Object.entries(forgeHeaders(forge, body, SECRET, { event: 'push', deliveryId: 'd-1', eventUuid: 'd-1' })).map(
          ([k, v]) => [k.toLowerCase(), v],
        ),
      );
      const theirs = signWebhookBody(forge, body, SECRET, { event: 'push', deliveryId: 'd-1' });
      for (const [name, value] of Object.entries(theirs)) {
        if (name === 'user-agent') continue;
        expect(ours[name], `${forge} ${name}`).toBe(value);
      }
    }
  });
});
