import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { buildJobId } from '@secure-build/queue';
import type { Store } from '@secure-build/store';
import { signWebhookBody, WebhookError, type WebhookProvider } from '@secure-build/webhooks';

import { ProjectsService, webhookSecretPurpose } from '../projects/projects.service';
import { SecretBox } from '../secrets/secret-box';
import { ServiceError } from '../service.error';
import { openQueueFixture, openTestStore, QueueFixture } from '../testing/service-fixture';
import { WebhooksService } from './webhooks.service';

const REPOSITORY = 'https://git.example.com/org/wallet.git';
const SECRET = 'unit-test-webhook-secret-0001';
const ZEROS = '0'.repeat(40);
const SHA = (seed: string) => createHash('sha1').update(seed).digest('hex');
const SIGNERS = 'dev@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey\n';

/** A GitHub push payload; every repository URL names `repository`. */
function githubPush(overrides: Record<string, unknown> = {}, repository = REPOSITORY): Record<string, unknown> {
  const after = (overrides.after as string | undefined) ?? SHA(randomUUID());
  const { host, pathname } = new URL(repository);
  const fullName = pathname.slice(1).replace(/\.git$/, '');
  return {
    ref: 'refs/heads/main',
    before: SHA('parent'),
    after,
    deleted: false,
    head_commit: { id: after, message: 'change' },
    // The payload's own URL spelling (ssh, no .git) differs from the project's; it still matches.
    repository: {
      id: 1,
      full_name: fullName,
      clone_url: `git@${host}:${fullName}`,
      html_url: `https://${host}/${fullName}`,
    },
    pusher: { name: 'dev' },
    ...overrides,
  };
}

describe(WebhooksService.name, () => {
  let store: Store;
  let fx: QueueFixture;
  let secrets: SecretBox;
  let projects: ProjectsService;
  let service: WebhooksService;
  let project: string;

  beforeAll(async () => {
    store = await openTestStore();
    secrets = new SecretBox(randomBytes(32));
    projects = new ProjectsService(store, secrets, { publicUrl: 'https://build.example.com', allowLocalRepos: false });
  });
  afterAll(async () => store.close());
  beforeEach(async () => {
    fx = openQueueFixture();
    service = new WebhooksService(store, fx.queue, secrets);
    project = `wallet-${randomBytes(4).toString('hex')}`;
    await projects.create({
      name: project,
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main', 'refs/tags/v*'],
      recipePath: 'ci/securebuild.yaml',
      imageName: 'registry.example.com/org/wallet',
      webhook: { provider: 'github', secret: SECRET },
      signaturePolicy: { mode: 'ssh', allowedSigners: SIGNERS },
    });
  });
  afterEach(async () => fx.close());

  /** Signs `payload` as GitHub does and hands the exact bytes to the service. */
  function receive(
    payload: unknown,
    options: { event?: string; deliveryId?: string; secret?: string; provider?: WebhookProvider; name?: string } = {},
  ) {
    const provider = options.provider ?? 'github';
    const body = Buffer.from(JSON.stringify(payload));
    const headers = signWebhookBody(provider, body, options.secret ?? SECRET, {
      event: options.event ?? 'push',
      deliveryId: options.deliveryId ?? randomUUID(),
    });
    return service.receive(provider, options.name ?? project, headers, body);
  }

  async function buildsOfProject(): Promise<number> {
    const id = (await store.projects.get(project))?.id;
    return (await store.builds.list({ limit: 200 })).items.filter((b) => b.projectId === id).length;
  }

  it('ping → 202 ignored with a reason; no build, no job', async () => {
    const reply = await receive(
      { zen: 'Keep it logically awesome.', hook_id: 1 },
      { event: 'ping', deliveryId: 'p-1' },
    );
    expect(reply).toEqual({
      status: 202,
      body: {
        deliveryId: 'p-1',
        outcome: 'ignored',
        buildId: null,
        reason: 'ping: the webhook is set up; nothing to build',
      },
    });
    expect(await fx.bullQueue.count()).toBe(0);
    expect(await buildsOfProject()).toBe(0);
  });

  it('other events → ignored, naming the event', async () => {
    const reply = await receive({ action: 'opened' }, { event: 'pull_request' });
    expect(reply.body).toMatchObject({ outcome: 'ignored', buildId: null });
    expect(reply.body.reason).toBe("event 'pull_request' does not start builds");
    expect(await fx.bullQueue.count()).toBe(0);
  });

  it.each([
    ['deleted: true', { deleted: true, after: ZEROS, head_commit: null }],
    ['after all zeros', { after: ZEROS, head_commit: null }],
  ])('a branch deletion (%s) → ignored', async (_why, overrides) => {
    const reply = await receive(githubPush(overrides));
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ outcome: 'ignored', buildId: null });
    expect(reply.body.reason).toBe('refs/heads/main was deleted; nothing to build');
    expect(await fx.bullQueue.count()).toBe(0);
    expect(await buildsOfProject()).toBe(0);
  });

  it('a ref the project does not allow → ignored, listing the allowed refs', async () => {
    const reply = await receive(githubPush({ ref: 'refs/heads/feature/x' }));
    expect(reply.body).toMatchObject({ outcome: 'ignored', buildId: null });
    expect(reply.body.reason).toBe(
      "refs/heads/feature/x is not among the project's allowed refs (refs/heads/main, refs/tags/v*)",
    );
    expect(await fx.bullQueue.count()).toBe(0);
  });

  it('a payload naming another repository → VALIDATION_FAILED naming repository; nothing recorded', async () => {
    const error = await receive(githubPush({}, 'https://git.example.com/attacker/wallet.git'), {
      deliveryId: 'mismatch-1',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'repository' } });
    expect((error as Error).message).toBe(
      `repository: the payload names attacker/wallet, not this project's ${REPOSITORY}`,
    );
    expect(await fx.bullQueue.count()).toBe(0);
    expect(await buildsOfProject()).toBe(0);
    // The delivery id was not claimed: a genuine delivery with it still builds.
    expect((await receive(githubPush(), { deliveryId: 'mismatch-1' })).status).toBe(202);
  });

  it("a push → one build and one job, with the project's URL, recipe, image and signature policy", async () => {
    const after = SHA('build-me');
    const reply = await receive(githubPush({ after, ref: 'refs/tags/v1.2.0' }), { deliveryId: 'b-1' });
    expect(reply).toEqual({
      status: 202,
      body: { deliveryId: 'b-1', outcome: 'build', buildId: expect.any(String) },
    });
    const buildId = reply.body.buildId as string;
    const stored = await store.builds.get(buildId);
    expect(stored).toMatchObject({
      status: 'queued',
      repository: REPOSITORY,
      commit: after,
      ref: 'refs/tags/v1.2.0',
      recipePath: 'ci/securebuild.yaml',
      imageName: 'registry.example.com/org/wallet',
      projectId: (await store.projects.get(project))?.id,
      signaturePolicy: { mode: 'ssh', allowedSigners: SIGNERS },
    });
    expect(await fx.bullQueue.count()).toBe(1);
    const job = await fx.bullQueue.getJob(buildJobId(buildId));
    expect(job?.data).toEqual({
      buildId,
      repository: REPOSITORY, // never the payload's git@git.example.com:org/wallet
      commit: after,
      ref: 'refs/tags/v1.2.0',
      recipePath: 'ci/securebuild.yaml',
      imageName: 'registry.example.com/org/wallet',
    });
  });

  it('a redelivery (same id, even another body) → 200 with the same build; nothing new', async () => {
    const first = await receive(githubPush({ after: SHA('original') }), { deliveryId: 'dup-1' });
    const again = await receive(githubPush({ after: SHA('original') }), { deliveryId: 'dup-1' });
    const other = await receive(githubPush({ after: SHA('substituted') }), { deliveryId: 'dup-1' });
    for (const reply of [again, other]) {
      expect(reply).toEqual({
        status: 200,
        body: { deliveryId: 'dup-1', outcome: 'build', buildId: first.body.buildId, duplicate: true },
      });
    }
    expect(await fx.bullQueue.count()).toBe(1);
    expect(await buildsOfProject()).toBe(1);
    expect((await store.builds.get(first.body.buildId as string))?.commit).toBe(SHA('original'));
  });

  it('a redelivery of an ignored delivery stays ignored, with its reason', async () => {
    await receive(githubPush({ ref: 'refs/heads/dev' }), { deliveryId: 'ign-1' });
    const again = await receive(githubPush({ ref: 'refs/heads/dev' }), { deliveryId: 'ign-1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'ignored', buildId: null, duplicate: true });
    expect(again.body.reason).toMatch(/not among the project's allowed refs/);
  });

  it.each([
    [
      'a wrong secret',
      (body: Buffer, deliveryId: string) =>
        signWebhookBody('github', body, 'another-secret-entirely', { event: 'push', deliveryId }),
      'SIGNATURE_INVALID',
    ],
    [
      'a signature of another body',
      (body: Buffer, deliveryId: string) =>
        signWebhookBody('github', Buffer.concat([body, Buffer.from(' ')]), SECRET, {
          event: 'push',
          deliveryId,
        }),
      'SIGNATURE_INVALID',
    ],
    [
      'no signature',
      (body: Buffer, deliveryId: string) => {
        const { 'x-hub-signature-256': _dropped, ...rest } = signWebhookBody('github', body, SECRET, {
          event: 'push',
          deliveryId,
        });
        return rest;
      },
      'SIGNATURE_MISSING',
    ],
    [
      'a malformed signature',
      (body: Buffer, deliveryId: string) => ({
        ...signWebhookBody('github', body, SECRET, { event: 'push', deliveryId }),
        'x-hub-signature-256': 'sha256=xyz',
      }),
      'SIGNATURE_MALFORMED',
    ],
  ])('a signature failure (%s) → WebhookError; nothing recorded, no job', async (_why, sign, code) => {
    const deliveryId = randomUUID();
    const body = Buffer.from(JSON.stringify(githubPush()));
    const error = await service.receive('github', project, sign(body, deliveryId), body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code, details: { field: 'x-hub-signature-256' } });
    expect((error as Error).message).not.toContain(SECRET);
    expect(await fx.bullQueue.count()).toBe(0);
    expect(await buildsOfProject()).toBe(0);
    // Nothing was recorded under the delivery id: the genuine delivery is new, not a duplicate.
    const genuine = await receive(githubPush(), { deliveryId });
    expect(genuine.status).toBe(202);
  });

  it('unknown provider, unknown project and a provider that is not the project’s → not found', async () => {
    const body = Buffer.from('{}');
    await expect(service.receive('bitbucket', project, {}, body)).rejects.toMatchObject({ code: 'UNKNOWN_PROVIDER' });
    await expect(receive(githubPush(), { name: 'no-such-project' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: "no project 'no-such-project' with a webhook",
    });
    await expect(receive(githubPush(), { name: 'bad\u0000name' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(receive(githubPush(), { provider: 'gitlab' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `project '${project}' receives github webhooks, not gitlab`,
    });
    expect(await fx.bullQueue.count()).toBe(0);
  });

  it('keeps the build when the queue is down (the sweeper queues it later)', async () => {
    const failures: string[] = [];
    const broken = new WebhooksService(
      store,
      {
        enqueue: () => Promise.reject(new Error('ECONNREFUSED')),
        state: fx.queue.state.bind(fx.queue),
        remove: fx.queue.remove.bind(fx.queue),
        counts: fx.queue.counts.bind(fx.queue),
        ping: fx.queue.ping.bind(fx.queue),
      },
      secrets,
      (id) => failures.push(id),
    );
    const body = Buffer.from(JSON.stringify(githubPush()));
    const headers = signWebhookBody('github', body, SECRET, { event: 'push', deliveryId: randomUUID() });
    const reply = await broken.receive('github', project, headers, body);
    expect(reply.status).toBe(202);
    expect(failures).toEqual([reply.body.buildId]);
    expect((await store.builds.get(reply.body.buildId as string))?.status).toBe('queued');
  });

  describe('project cache', () => {
    it('a change made through ProjectsService applies to the next delivery at once', async () => {
      expect((await receive(githubPush())).status).toBe(202); // cached now
      const rotated = 'rotated-secret-for-the-cache-1';
      await projects.update(project, { webhook: { provider: 'github', secret: rotated } });
      await expect(receive(githubPush())).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
      expect((await receive(githubPush(), { secret: rotated })).status).toBe(202);
      await projects.update(project, { allowedRefs: ['refs/heads/dev'] });
      expect((await receive(githubPush(), { secret: rotated })).body.outcome).toBe('ignored');
      await projects.delete(project);
      await expect(receive(githubPush(), { secret: rotated })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('a change made by another process: a refusal is re-checked against the current record', async () => {
      expect((await receive(githubPush())).status).toBe(202); // cached now
      const record = await store.projects.get(project);
      const rotated = 'rotated-elsewhere-secret-0002';
      // Another API process rotates the secret (this process's ProjectsService never hears of it).
      await store.projects.update(project, {
        webhookSecretSealed: secrets.seal(rotated, webhookSecretPurpose(record?.id ?? '')),
      });
      expect((await receive(githubPush(), { secret: rotated })).status).toBe(202);
      // ... and deletes the project: no store error escapes, nothing is recorded.
      const builds = (await store.builds.list({ limit: 200 })).items.length;
      await store.projects.delete(project);
      await expect(receive(githubPush(), { secret: rotated })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect((await store.builds.list({ limit: 200 })).items.length).toBe(builds);
    });

    it('without a cache (TTL 0) another process’s change applies at once', async () => {
      const uncached = new WebhooksService(store, fx.queue, secrets, undefined, 0);
      const body = Buffer.from(JSON.stringify(githubPush()));
      const sign = (secret: string) =>
        signWebhookBody('github', body, secret, { event: 'push', deliveryId: randomUUID() });
      expect((await uncached.receive('github', project, sign(SECRET), body)).status).toBe(202);
      const record = await store.projects.get(project);
      await store.projects.update(project, {
        webhookSecretSealed: secrets.seal('rotated-elsewhere-secret-0003', webhookSecretPurpose(record?.id ?? '')),
      });
      await expect(uncached.receive('github', project, sign(SECRET), body)).rejects.toMatchObject({
        code: 'SIGNATURE_INVALID',
      });
    });
  });

  it('GitLab: a Tag Push Hook builds checkout_sha (the commit), not the tag object in after', async () => {
    const name = `gl-${randomBytes(4).toString('hex')}`;
    await projects.create({
      name,
      repository: REPOSITORY,
      allowedRefs: ['refs/tags/*'],
      webhook: { provider: 'gitlab', secret: SECRET },
    });
    const commit = SHA('tagged commit');
    const payload = {
      object_kind: 'tag_push',
      ref: 'refs/tags/v2.0.0',
      before: ZEROS,
      after: SHA('annotated tag object'),
      checkout_sha: commit,
      project: { id: 7, path_with_namespace: 'org/wallet', git_http_url: REPOSITORY },
    };
    const reply = await receive(payload, { provider: 'gitlab', name, event: 'Tag Push Hook' });
    expect(reply.body.outcome).toBe('build');
    expect((await store.builds.get(reply.body.buildId as string))?.commit).toBe(commit);
  });

  it('a Forgejo delivery is accepted by a Gitea project (Forgejo sends the Gitea headers too)', async () => {
    const name = `gt-${randomBytes(4).toString('hex')}`;
    await projects.create({
      name,
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      webhook: { provider: 'gitea', secret: SECRET },
    });
    const reply = await receive(githubPush(), { provider: 'forgejo', name });
    expect(reply).toMatchObject({ status: 202, body: { outcome: 'build' } });
  });
});
