import { describe, expect, it } from 'vitest';

import { parseWebhookDelivery } from './delivery';
import type { WebhookDelivery } from './delivery.types';
import type { IncomingHeaders } from './headers';
import { MAX_WEBHOOK_BODY_BYTES } from './payload-body';
import type { WebhookProvider } from './provider';
import { signWebhookBody } from './sign-webhook';
import { verifyWebhookSignature } from './verify-signature';
import { WebhookError } from './webhook-error';
import type { WebhookErrorCode } from './webhook-error';

const SECRET = 'delivery-spec-secret';
const ZEROS = '0'.repeat(40);

// --- Fixtures shaped as each forge sends them (field names per git-and-webhooks.md §6). ---

const giteaUser = {
  id: 1,
  login: 'gitea',
  login_name: '',
  full_name: 'Gitea',
  email: 'someone@gitea.io',
  avatar_url: 'http://localhost:3000/avatars/1',
  username: 'gitea',
};
const giteaCommit = {
  id: 'bffeb74224043ba2feb48d137756c8a9331c449a',
  message: 'Webhooks Yay!\n',
  url: 'http://localhost:3000/gitea/webhooks/commit/bffeb74224043ba2feb48d137756c8a9331c449a',
  author: { name: 'Gitea', email: 'someone@gitea.io', username: 'gitea' },
  committer: { name: 'Gitea', email: 'someone@gitea.io', username: 'gitea' },
  verification: null,
  timestamp: '2017-03-13T13:52:11-04:00',
  added: [],
  removed: [],
  modified: ['README.md'],
};
/** Gitea push (services/webhook payloads: GitHub-like, no `deleted`, pusher has `login`). */
const giteaPush = {
  ref: 'refs/heads/develop',
  before: '28e1879d029cb852e4844d9c718537df08844e03',
  after: 'bffeb74224043ba2feb48d137756c8a9331c449a',
  compare_url:
    'http://localhost:3000/gitea/webhooks/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a',
  commits: [giteaCommit],
  total_commits: 1,
  head_commit: giteaCommit,
  repository: {
    id: 140,
    owner: giteaUser,
    name: 'webhooks',
    full_name: 'gitea/webhooks',
    description: '',
    private: false,
    fork: false,
    html_url: 'http://localhost:3000/gitea/webhooks',
    ssh_url: 'ssh://gitea@localhost:2222/gitea/webhooks.git',
    clone_url: 'http://localhost:3000/gitea/webhooks.git',
    website: '',
    stars_count: 0,
    forks_count: 1,
    watchers_count: 1,
    open_issues_count: 7,
    default_branch: 'master',
    created_at: '2017-02-26T04:29:06-05:00',
    updated_at: '2017-03-13T13:51:58-04:00',
  },
  pusher: giteaUser,
  sender: giteaUser,
};
/** Gitea announces tag pushes as a `push` event with refs/tags/… and no commits. */
const giteaTagPush = {
  ...giteaPush,
  ref: 'refs/tags/v1.0.0',
  before: ZEROS,
  compare_url: '',
  commits: [],
  total_commits: 0,
  head_commit: null,
};
/** Forgejo sends the Gitea payload; scp-like ssh_url when SSH runs on port 22. */
const forgejoPush = {
  ...giteaPush,
  ref: 'refs/heads/main',
  before: '9c2b8e1f0d4a6b3c5e7f9a1b2c3d4e5f6a7b8c9d',
  after: '0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e',
  head_commit: { ...giteaCommit, id: '0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e' },
  commits: [{ ...giteaCommit, id: '0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e' }],
  repository: {
    ...giteaPush.repository,
    id: 7,
    name: 'app',
    full_name: 'team/app',
    html_url: 'https://code.example.org/team/app',
    ssh_url: 'git@code.example.org:team/app.git',
    clone_url: 'https://code.example.org/team/app.git',
  },
};

const gitlabProject = {
  id: 15,
  name: 'Diaspora',
  description: '',
  web_url: 'https://gitlab.example.com/mike/diaspora',
  avatar_url: null,
  git_ssh_url: 'git@gitlab.example.com:mike/diaspora.git',
  git_http_url: 'https://gitlab.example.com/mike/diaspora.git',
  namespace: 'Mike',
  visibility_level: 0,
  path_with_namespace: 'mike/diaspora',
  default_branch: 'master',
  ci_config_path: null,
  homepage: 'https://gitlab.example.com/mike/diaspora',
  url: 'git@gitlab.example.com:mike/diaspora.git',
  ssh_url: 'git@gitlab.example.com:mike/diaspora.git',
  http_url: 'https://gitlab.example.com/mike/diaspora.git',
};
const gitlabRepository = {
  name: 'Diaspora',
  url: 'git@gitlab.example.com:mike/diaspora.git',
  description: '',
  homepage: 'https://gitlab.example.com/mike/diaspora',
  git_http_url: 'https://gitlab.example.com/mike/diaspora.git',
  git_ssh_url: 'git@gitlab.example.com:mike/diaspora.git',
  visibility_level: 0,
};
const gitlabUser = {
  user_id: 4,
  user_name: 'John Smith',
  user_username: 'jsmith',
  user_email: '',
  user_avatar:
    'https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=8://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80',
};
/** GitLab `Push Hook` (doc/user/project/integrations/webhook_events.md). */
const gitlabPush = {
  object_kind: 'push',
  event_name: 'push',
  before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
  after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  ref: 'refs/heads/master',
  ref_protected: true,
  checkout_sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  message: 'Hello World',
  ...gitlabUser,
  project_id: 15,
  project: gitlabProject,
  commits: [
    {
      id: 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327',
      message:
        'Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab for more information',
      title: 'Update Catalan translation to e38cb41.',
      timestamp: '2011-12-12T14:27:31+02:00',
      url: 'https://gitlab.example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327',
      author: { name: 'Jordi Mallach', email: 'jordi@softcatala.org' },
      added: ['CHANGELOG'],
      modified: ['app/controller/application.rb'],
      removed: [],
    },
    {
      id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      message: 'fixed readme',
      title: 'fixed readme',
      timestamp: '2012-01-03T23:36:29+02:00',
      url: 'https://gitlab.example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      author: { name: 'GitLab dev user', email: 'gitlabdev@dv6700.(none)' },
      added: ['CHANGELOG'],
      modified: ['app/controller/application.rb'],
      removed: [],
    },
  ],
  total_commits_count: 4,
  push_options: {},
  repository: gitlabRepository,
};
/** GitLab `Tag Push Hook` for an annotated tag: `after` is the tag object, `checkout_sha` the commit. */
const gitlabTagPush = {
  object_kind: 'tag_push',
  event_name: 'tag_push',
  before: ZEROS,
  after: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
  ref: 'refs/tags/v1.0.0',
  ref_protected: true,
  checkout_sha: '5937ac0a7beb003549fc5fd26fc247adbce4a52e',
  message: 'Tag message',
  ...gitlabUser,
  project_id: 1,
  project: { ...gitlabProject, id: 1 },
  commits: [],
  total_commits_count: 0,
  push_options: {},
  repository: gitlabRepository,
};
/** GitLab branch deletion: `after` all zeros and `checkout_sha` null. */
const gitlabBranchDeletion = {
  ...gitlabPush,
  before: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  after: ZEROS,
  ref: 'refs/heads/feature/old',
  ref_protected: false,
  checkout_sha: null,
  message: null,
  commits: [],
  total_commits_count: 0,
};

// --- Helpers ---

interface DeliverOptions {
  event: string;
  deliveryId?: string;
  mutate?: (headers: IncomingHeaders) => void;
}

/** Signs the exact bytes as the forge would, verifies them, then parses: the order the API uses. */
function deliver(provider: WebhookProvider, body: unknown, options: DeliverOptions): WebhookDelivery {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: IncomingHeaders = signWebhookBody(provider, raw, SECRET, {
    event: options.event,
    deliveryId: options.deliveryId ?? '0b5ad1b0-7a2c-11f0-8a8e-1f2d3c4b5a69',
  });
  options.mutate?.(headers);
  verifyWebhookSignature(provider, headers, raw, SECRET);
  return parseWebhookDelivery(provider, headers, raw);
}

function refusal(fn: () => unknown): WebhookError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebhookError) return error;
    throw error;
  }
  throw new Error('expected a WebhookError');
}

function expectRefused(fn: () => unknown, code: WebhookErrorCode, field?: string): WebhookError {
  const error = refusal(fn);
  expect(error.code).toBe(code);
  if (field !== undefined) {
    expect(error.details?.field).toBe(field);
    if (code === 'PAYLOAD_INVALID' && field !== '(body)') expect(error.message).toContain(field);
  }
  return error;
}

const githubPush = (overrides: Record<string, unknown> = {}) => ({
  ref: 'refs/heads/main',
  before: ZEROS,
  after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
  created: true,
  deleted: false,
  forced: false,
  head_commit: {
    id: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    message: 'Initial commit',
    timestamp: '2019-05-15T15:19:25Z',
  },
  repository: {
    id: 186853002,
    full_name: 'Codertocat/Hello-World',
    clone_url: 'https://github.com/Codertocat/Hello-World.git',
    ssh_url: 'git@github.com:Codertocat/Hello-World.git',
    html_url: 'https://github.com/Codertocat/Hello-World',
    git_url: 'git://github.com/Codertocat/Hello-World.git',
  },
  pusher: { name: 'Codertocat', email: '21031067+Codertocat@users.noreply.github.com' },
  ...overrides,
});
const githubPushWithRepository = (repository: Record<string, unknown>) =>
  githubPush({ repository: { ...githubPush().repository, ...repository } });
const pushGithub = (body: unknown) => deliver('github', body, { event: 'push' });

// --- Tests ---

describe('parseWebhookDelivery', () => {
  describe('gitea', () => {
    it('parses a branch push', () => {
      const delivery = deliver('gitea', giteaPush, {
        event: 'push',
        deliveryId: 'f6266f16-1bf3-46a5-9ea4-602e06ead473',
      });
      expect(delivery).toEqual({
        provider: 'gitea',
        deliveryId: 'f6266f16-1bf3-46a5-9ea4-602e06ead473',
        eventName: 'push',
        kind: 'push',
        push: {
          ref: 'refs/heads/develop',
          before: '28e1879d029cb852e4844d9c718537df08844e03',
          after: 'bffeb74224043ba2feb48d137756c8a9331c449a',
          deleted: false,
          refType: 'branch',
          repository: {
            cloneUrls: [
              'http://localhost:3000/gitea/webhooks.git',
              'ssh://gitea@localhost:2222/gitea/webhooks.git',
              'http://localhost:3000/gitea/webhooks',
            ],
            fullName: 'gitea/webhooks',
            id: 140,
          },
          pusher: 'gitea',
          headCommit: {
            id: 'bffeb74224043ba2feb48d137756c8a9331c449a',
            timestamp: '2017-03-13T13:52:11-04:00',
            message: 'Webhooks Yay!\n',
          },
        },
      });
    });

    it('parses a tag push sent as a push event', () => {
      const { kind, push } = deliver('gitea', giteaTagPush, { event: 'push' });
      expect(kind).toBe('push');
      expect(push).toMatchObject({ ref: 'refs/tags/v1.0.0', refType: 'tag', deleted: false, before: ZEROS });
      expect(push?.headCommit).toBeUndefined();
    });

    it.each(['gitea', 'github'] as const)(
      '%s: builds head_commit, not the annotated tag object in after, for a tag push',
      (provider) => {
        const tagObject = '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7';
        const body = { ...giteaTagPush, after: tagObject, head_commit: { ...giteaCommit, id: giteaPush.after } };
        const { push } = deliver(provider, body, { event: 'push' });
        expect(push).toMatchObject({ ref: 'refs/tags/v1.0.0', refType: 'tag', after: giteaPush.after });
        // A branch push keeps `after` (head_commit is only display text there).
        const branch = deliver(provider, { ...body, ref: 'refs/heads/main' }, { event: 'push' });
        expect(branch.push?.after).toBe(tagObject);
      },
    );

    it('treats a push with after all zeros as a deletion (Gitea sends no deleted flag)', () => {
      const { push } = deliver(
        'gitea',
        { ...giteaPush, after: ZEROS, head_commit: null, commits: [] },
        { event: 'push' },
      );
      expect(push).toMatchObject({ deleted: true, after: ZEROS });
    });

    it.each(['create', 'delete', 'release', 'pull_request'])('maps the %s event to other, without a push', (event) => {
      const delivery = deliver('gitea', { ref: 'v1', ref_type: 'tag', sha: giteaPush.after }, { event });
      expect(delivery).toEqual({ provider: 'gitea', deliveryId: expect.any(String), eventName: event, kind: 'other' });
    });

    it('ignores the Forgejo headers', () => {
      expectRefused(
        () =>
          deliver('gitea', giteaPush, {
            event: 'push',
            mutate: (h) => {
              h['x-forgejo-delivery'] = h['x-gitea-delivery'];
              delete h['x-gitea-delivery'];
            },
          }),
        'DELIVERY_ID_MISSING',
        'x-gitea-delivery',
      );
    });
  });

  describe('forgejo', () => {
    it('parses a push with the Forgejo headers', () => {
      const delivery = deliver('forgejo', forgejoPush, {
        event: 'push',
        deliveryId: 'a1b2c3d4-0000-4000-8000-000000000001',
      });
      expect(delivery).toMatchObject({
        provider: 'forgejo',
        deliveryId: 'a1b2c3d4-0000-4000-8000-000000000001',
        kind: 'push',
        push: {
          ref: 'refs/heads/main',
          after: '0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e',
          refType: 'branch',
          repository: { fullName: 'team/app', id: 7 },
        },
      });
      expect(delivery.push?.repository.cloneUrls).toContain('git@code.example.org:team/app.git');
    });

    it('prefers x-forgejo-delivery and x-forgejo-event over the Gitea copies', () => {
      const delivery = deliver('forgejo', forgejoPush, {
        event: 'push',
        mutate: (h) => {
          h['x-forgejo-delivery'] = 'forgejo-id';
          h['x-gitea-delivery'] = 'gitea-id';
          h['x-gitea-event'] = 'create';
        },
      });
      expect(delivery).toMatchObject({ deliveryId: 'forgejo-id', eventName: 'push', kind: 'push' });
    });

    it('falls back to the Gitea headers (older Forgejo)', () => {
      const delivery = deliver('forgejo', forgejoPush, {
        event: 'push',
        mutate: (h) => {
          delete h['x-forgejo-delivery'];
          delete h['x-forgejo-event'];
          delete h['x-forgejo-signature'];
        },
      });
      expect(delivery).toMatchObject({ eventName: 'push', kind: 'push' });
    });
  });

  describe('gitlab', () => {
    it('parses a Push Hook', () => {
      const delivery = deliver('gitlab', gitlabPush, {
        event: 'Push Hook',
        deliveryId: '8e5b2c48-5b7c-4fb4-8a8a-0f2d3e4c5b6a',
      });
      expect(delivery).toEqual({
        provider: 'gitlab',
        deliveryId: '8e5b2c48-5b7c-4fb4-8a8a-0f2d3e4c5b6a',
        eventName: 'Push Hook',
        kind: 'push',
        push: {
          ref: 'refs/heads/master',
          before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
          after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
          deleted: false,
          refType: 'branch',
          repository: {
            cloneUrls: [
              'https://gitlab.example.com/mike/diaspora.git',
              'git@gitlab.example.com:mike/diaspora.git',
              'https://gitlab.example.com/mike/diaspora',
            ],
            fullName: 'mike/diaspora',
            id: 15,
          },
          pusher: 'jsmith',
          headCommit: {
            id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
            timestamp: '2012-01-03T23:36:29+02:00',
            message: 'fixed readme',
          },
        },
      });
    });

    it('builds checkout_sha, not the annotated tag object in after, for a Tag Push Hook', () => {
      const { kind, push } = deliver('gitlab', gitlabTagPush, { event: 'Tag Push Hook' });
      expect(kind).toBe('push');
      expect(push).toMatchObject({
        ref: 'refs/tags/v1.0.0',
        refType: 'tag',
        after: '5937ac0a7beb003549fc5fd26fc247adbce4a52e',
        deleted: false,
        repository: { id: 1 },
      });
    });

    it('falls back to after when checkout_sha is absent', () => {
      const { checkout_sha: _omitted, ...body } = gitlabPush;
      expect(deliver('gitlab', body, { event: 'Push Hook' }).push?.after).toBe(gitlabPush.after);
    });

    it('parses a branch deletion (after zeros, checkout_sha null)', () => {
      const { push } = deliver('gitlab', gitlabBranchDeletion, { event: 'Push Hook' });
      expect(push).toMatchObject({ ref: 'refs/heads/feature/old', deleted: true, after: ZEROS, refType: 'branch' });
      expect(push?.headCommit).toBeUndefined();
    });

    it('parses a tag deletion', () => {
      const body = { ...gitlabTagPush, before: gitlabTagPush.after, after: ZEROS, checkout_sha: null };
      expect(deliver('gitlab', body, { event: 'Tag Push Hook' }).push).toMatchObject({ deleted: true, refType: 'tag' });
    });

    it('reads the legacy repository URLs when project is absent', () => {
      const { project: _p, project_id: _id, ...body } = gitlabPush;
      const { push } = deliver('gitlab', body, { event: 'Push Hook' });
      expect(push?.repository).toEqual({
        cloneUrls: ['https://gitlab.example.com/mike/diaspora.git', 'git@gitlab.example.com:mike/diaspora.git'],
      });
    });

    it.each(['System Hook', 'Merge Request Hook', 'Pipeline Hook', 'Job Hook'])('maps %s to other', (event) => {
      expect(deliver('gitlab', gitlabPush, { event })).toMatchObject({ eventName: event, kind: 'other' });
    });

    it('has no ping', () => {
      expect(deliver('gitlab', {}, { event: 'ping' }).kind).toBe('other');
    });

    it('refuses a Tag Push Hook for a branch and a Push Hook for a tag', () => {
      expectRefused(() => deliver('gitlab', gitlabPush, { event: 'Tag Push Hook' }), 'PAYLOAD_INVALID', 'ref');
      expectRefused(() => deliver('gitlab', gitlabTagPush, { event: 'Push Hook' }), 'PAYLOAD_INVALID', 'ref');
    });

    it('refuses an object_kind that contradicts the event header', () => {
      expectRefused(
        () => deliver('gitlab', { ...gitlabPush, object_kind: 'merge_request' }, { event: 'Push Hook' }),
        'PAYLOAD_INVALID',
        'object_kind',
      );
    });

    it.each([
      ['abbreviated', 'da15608'],
      ['all zeros', ZEROS],
      ['a number', 42],
    ])('refuses a checkout_sha that is %s', (_why, checkout) => {
      expectRefused(
        () => deliver('gitlab', { ...gitlabPush, checkout_sha: checkout }, { event: 'Push Hook' }),
        'PAYLOAD_INVALID',
        'checkout_sha',
      );
    });

    it('refuses a push naming no repository URL', () => {
      const { project: _p, repository: _r, ...body } = gitlabPush;
      expectRefused(() => deliver('gitlab', body, { event: 'Push Hook' }), 'PAYLOAD_INVALID', 'project.git_http_url');
    });

    it('describes only the target commit, not other commits of the push', () => {
      const commits = [{ ...gitlabPush.commits[1], id: gitlabPush.after.toUpperCase().replace('A', 'G') }];
      // Not the target commit: it is not described, so it is not validated.
      expect(deliver('gitlab', { ...gitlabPush, commits }, { event: 'Push Hook' }).push?.headCommit).toBeUndefined();
    });

    describe('delivery id', () => {
      const body = gitlabPush;
      const withIds = (ids: Record<string, string>) =>
        deliver('gitlab', body, {
          event: 'Push Hook',
          mutate: (h) => {
            delete h['idempotency-key'];
            delete h['x-gitlab-event-uuid'];
            Object.assign(h, ids);
          },
        });

      it('prefers Idempotency-Key (stable across retries)', () => {
        const ids = {
          'idempotency-key': 'idem-1',
          'x-gitlab-event-uuid': 'event-1',
          'x-gitlab-webhook-uuid': 'hook-1',
        };
        expect(withIds(ids).deliveryId).toBe('idem-1');
      });

      it('falls back to X-Gitlab-Event-UUID, then X-Gitlab-Webhook-UUID', () => {
        expect(withIds({ 'x-gitlab-event-uuid': 'event-1', 'x-gitlab-webhook-uuid': 'hook-1' }).deliveryId).toBe(
          'event-1',
        );
        expect(withIds({ 'x-gitlab-webhook-uuid': 'hook-1' }).deliveryId).toBe('hook-1');
      });

      it('refuses a delivery with none of them', () => {
        expectRefused(() => withIds({}), 'DELIVERY_ID_MISSING', 'idempotency-key');
      });
    });
  });

  describe('sha256 repositories', () => {
    const sha256 = 'a'.repeat(64);

    it('accepts 64-hex commit ids', () => {
      const body = githubPush({ before: '0'.repeat(64), after: sha256, head_commit: null });
      expect(pushGithub(body).push).toMatchObject({ after: sha256, before: '0'.repeat(64), deleted: false });
    });

    it('treats 64 zeros as a deletion', () => {
      const body = githubPush({ before: sha256, after: '0'.repeat(64), deleted: false, head_commit: null });
      expect(pushGithub(body).push?.deleted).toBe(true);
    });
  });

  it('lower-cases commit ids', () => {
    const after = '6113728F27AE82C7B1A177C8D03F9E96E0ADF246';
    expect(pushGithub(githubPush({ after, head_commit: null })).push?.after).toBe(after.toLowerCase());
  });

  it('keeps deleted: true even when after is not zeros (build nothing)', () => {
    expect(pushGithub(githubPush({ deleted: true })).push?.deleted).toBe(true);
  });

  it('shortens a very long commit message instead of refusing the push', () => {
    const message = 'x'.repeat(100_000);
    const { push } = pushGithub(githubPush({ head_commit: { ...githubPush().head_commit, message } }));
    expect(push?.headCommit?.message).toHaveLength(4097);
    expect(push?.headCommit?.message?.endsWith('…')).toBe(true);
  });

  it('accepts a pusher without a name (login or username)', () => {
    expect(pushGithub(githubPush({ pusher: { login: 'octo' } })).push?.pusher).toBe('octo');
    expect(pushGithub(githubPush({ pusher: null })).push).not.toHaveProperty('pusher');
  });

  describe('delivery id', () => {
    it.each<[string, (h: IncomingHeaders) => void]>([
      ['absent', (h) => delete h['x-github-delivery']],
      ['empty', (h) => (h['x-github-delivery'] = '')],
    ])('refuses a delivery id that is %s', (_why, mutate) => {
      expectRefused(
        () => deliver('github', githubPush(), { event: 'push', mutate }),
        'DELIVERY_ID_MISSING',
        'x-github-delivery',
      );
    });

    it.each([
      ['with a space', 'abc def'],
      ['with a slash', '../../etc/passwd'],
      ['with a newline-free unicode character', 'delivery-é'],
      ['with a quote', 'id"1'],
      ['129 characters long', 'a'.repeat(129)],
      ['repeated (Node joins with ", ")', 'id-1, id-2'],
    ])('refuses a delivery id %s', (_why, id) => {
      expectRefused(
        () => deliver('github', githubPush(), { event: 'push', deliveryId: id }),
        'DELIVERY_ID_INVALID',
        'x-github-delivery',
      );
    });

    it('refuses an array-valued delivery id', () => {
      const mutate = (h: IncomingHeaders) => (h['x-github-delivery'] = ['a', 'b']);
      expectRefused(() => deliver('github', githubPush(), { event: 'push', mutate }), 'DELIVERY_ID_INVALID');
    });

    it('accepts 128 characters of the allowed set', () => {
      const id = 'Aa0._:-'.repeat(18) + 'ab';
      expect(id).toHaveLength(128);
      expect(deliver('github', githubPush(), { event: 'push', deliveryId: id }).deliveryId).toBe(id);
    });
  });

  describe('event header', () => {
    it.each<[WebhookProvider, string]>([
      ['github', 'x-github-event'],
      ['gitea', 'x-gitea-event'],
      ['forgejo', 'x-forgejo-event'],
      ['gitlab', 'x-gitlab-event'],
    ])('%s: refuses a delivery without %s', (provider, header) => {
      const mutate = (h: IncomingHeaders) => {
        delete h['x-gitea-event'];
        delete h[header];
      };
      expectRefused(() => deliver(provider, githubPush(), { event: 'push', mutate }), 'EVENT_MISSING', header);
    });

    it.each([
      ['repeated', 'push, ping'],
      ['not an event name', 'push\u00a0'],
      ['too long', 'p'.repeat(65)],
    ])('refuses an event header that is %s', (_why, event) => {
      expectRefused(() => deliver('github', githubPush(), { event }), 'EVENT_MISSING', 'x-github-event');
    });

    it.each(['pull_request', 'create', 'delete', 'release', 'workflow_run'])('maps GitHub %s to other', (event) => {
      expect(deliver('github', githubPush(), { event })).toMatchObject({ kind: 'other', eventName: event });
    });
  });

  describe('bodies that are not a JSON object', () => {
    const json = JSON.stringify(githubPush());
    it.each<[string, Buffer | string, RegExp]>([
      ['truncated JSON', json.slice(0, json.length / 2), /malformed or truncated/],
      ['not JSON', 'hello world', /not valid JSON/],
      ['empty', '', /empty/],
      ['form-encoded (payload=…)', `payload=${encodeURIComponent(json)}`, /application\/json/],
      ['a JSON array', '[1,2,3]', /must be a JSON object, got an array/],
      ['JSON null', 'null', /got null/],
      ['a JSON string', '"refs/heads/main"', /got a string/],
      ['a JSON number', '42', /got a number/],
      [
        'invalid UTF-8',
        Buffer.concat([Buffer.from('{"ref":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
        /UTF-8/,
      ],
      ['UTF-16', Buffer.from(json, 'utf16le'), /not valid JSON|UTF-8/],
    ])('refuses %s', (_why, body, message) => {
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(body);
      const error = expectRefused(() => deliver('github', raw, { event: 'push' }), 'BODY_NOT_JSON', '(body)');
      expect(error.message).toMatch(message);
    });

    it('refuses non-object bodies for ping and other events too', () => {
      expectRefused(() => deliver('github', Buffer.from('[]'), { event: 'ping' }), 'BODY_NOT_JSON');
      expectRefused(() => deliver('gitlab', Buffer.from('nope'), { event: 'System Hook' }), 'BODY_NOT_JSON');
    });

    it('refuses a body over the size limit', () => {
      const raw = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x20);
      expectRefused(
        () => parseWebhookDelivery('github', { 'x-github-delivery': 'd', 'x-github-event': 'push' }, raw),
        'PAYLOAD_INVALID',
        '(body)',
      );
    });
  });

  describe('invalid push payloads (PAYLOAD_INVALID names the field)', () => {
    const { ref: _ref, ...withoutRef } = githubPush();
    const { after: _after, ...withoutAfter } = githubPush();
    const { repository: _repository, ...withoutRepository } = githubPush();

    it.each<[string, unknown, string, RegExp?]>([
      ['missing ref', withoutRef, 'ref', /required/],
      ['missing after', withoutAfter, 'after', /required/],
      ['missing repository', withoutRepository, 'repository', /required/],
      ['abbreviated after', githubPush({ after: '6113728' }), 'after', /abbreviated/],
      ['after of 41 hex digits', githubPush({ after: '6113728f27ae82c7b1a177c8d03f9e96e0adf2461' }), 'after'],
      ['after as a branch name', githubPush({ after: 'main' }), 'after'],
      ['after as an option', githubPush({ after: '--upload-pack=touch /tmp/x' }), 'after'],
      ['abbreviated before', githubPush({ before: 'abc1234' }), 'before'],
      ['ref with option-like text', githubPush({ ref: 'refs/heads/--upload-pack=x' }), 'ref', /"-"/],
      ['ref that is an option', githubPush({ ref: '--upload-pack=touch /tmp/pwned' }), 'ref', /option/],
      ['ref outside heads and tags', githubPush({ ref: 'refs/pull/1/head' }), 'ref'],
      ['short ref name', githubPush({ ref: 'main' }), 'ref'],
      ['ref with ..', githubPush({ ref: 'refs/heads/a..b' }), 'ref'],
      ['ref with a newline', githubPush({ ref: 'refs/heads/main\nrefs/heads/evil' }), 'ref'],
      ['ref as a number', githubPush({ ref: 42 }), 'ref'],
      ['after as null', githubPush({ after: null }), 'after'],
      ['after as a number', githubPush({ after: 6113728 }), 'after'],
      ['deleted as a string', githubPush({ deleted: 'false' }), 'deleted'],
      ['repository as a string', githubPush({ repository: 'Codertocat/Hello-World' }), 'repository'],
      ['clone_url as a number', githubPushWithRepository({ clone_url: 1 }), 'repository.clone_url'],
      ['clone_url as an object', githubPushWithRepository({ clone_url: { href: 'x' } }), 'repository.clone_url'],
      ['full_name as an array', githubPushWithRepository({ full_name: ['a'] }), 'repository.full_name'],
      ['repository id as a float', githubPushWithRepository({ id: 1.5 }), 'repository.id'],
      ['repository id negative', githubPushWithRepository({ id: -1 }), 'repository.id'],
      ['pusher name as a number', githubPush({ pusher: { name: 7 } }), 'pusher.name'],
      ['head_commit id abbreviated', githubPush({ head_commit: { id: '6113728' } }), 'head_commit.id'],
      ['head_commit id missing', githubPush({ head_commit: { message: 'x' } }), 'head_commit.id'],
      ['oversized ref', githubPush({ ref: `refs/heads/${'a'.repeat(2000)}` }), 'ref', /longer/],
      ['oversized after', githubPush({ after: 'a'.repeat(100_000) }), 'after'],
      [
        'oversized clone_url',
        githubPushWithRepository({ clone_url: `https://github.com/${'a'.repeat(3000)}` }),
        'repository.clone_url',
        /longer/,
      ],
      [
        'oversized full_name',
        githubPushWithRepository({ full_name: 'o/'.repeat(300) }),
        'repository.full_name',
        /longer/,
      ],
      ['oversized pusher', githubPush({ pusher: { name: 'p'.repeat(300) } }), 'pusher.name', /longer/],
      [
        'oversized timestamp',
        githubPush({ head_commit: { ...githubPush().head_commit, timestamp: '9'.repeat(100) } }),
        'head_commit.timestamp',
      ],
      [
        'control characters in full_name',
        githubPushWithRepository({ full_name: 'org/repo\u001b[31m' }),
        'repository.full_name',
        /control/,
      ],
      [
        'whitespace in clone_url',
        githubPushWithRepository({ clone_url: 'https://github.com/org/repo evil' }),
        'repository.clone_url',
      ],
      [
        'no repository URL at all',
        githubPush({ repository: { id: 1, full_name: 'a/b' } }),
        'repository.clone_url',
        /no repository URL/,
      ],
    ])('refuses %s', (_why, body, field, message) => {
      const error = expectRefused(() => pushGithub(body), 'PAYLOAD_INVALID', field);
      if (message) expect(error.message).toMatch(message);
      expect(error.message.length).toBeLessThan(400);
    });

    it('applies the same rules to Gitea, Forgejo and GitLab bodies', () => {
      expectRefused(
        () => deliver('gitea', { ...giteaPush, after: 'bffeb74' }, { event: 'push' }),
        'PAYLOAD_INVALID',
        'after',
      );
      expectRefused(
        () => deliver('forgejo', { ...forgejoPush, ref: 'refs/heads/-x' }, { event: 'push' }),
        'PAYLOAD_INVALID',
        'ref',
      );
      expectRefused(
        () => deliver('gitlab', { ...gitlabPush, after: 'da15608' }, { event: 'Push Hook' }),
        'PAYLOAD_INVALID',
        'after',
      );
      expectRefused(
        () => deliver('gitlab', { ...gitlabPush, ref: '--upload-pack=x' }, { event: 'Push Hook' }),
        'PAYLOAD_INVALID',
        'ref',
      );
      expectRefused(
        () =>
          deliver('gitlab', { ...gitlabPush, project: { ...gitlabProject, git_http_url: 5 } }, { event: 'Push Hook' }),
        'PAYLOAD_INVALID',
        'project.git_http_url',
      );
    });
  });

  it('refuses an unknown provider', () => {
    expectRefused(
      () => parseWebhookDelivery('bitbucket' as WebhookProvider, {}, Buffer.from('{}')),
      'UNKNOWN_PROVIDER',
    );
  });
});
