import { execFile } from 'node:child_process';
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { WALLET_SIGNER_FIXTURE } from './git-fixture';
import type { GitHttpServer } from './git-http-server';

const run = promisify(execFile);

/** The forges whose webhooks the service understands. */
export type Forge = 'github' | 'gitlab' | 'gitea' | 'forgejo';

export const ZERO_SHA = '0'.repeat(40);

const AUTHOR = { name: 'Wallet Dev', email: 'dev@wallet.example', username: 'walletdev' };

/** git's environment in tests: fixed identity, no user or system configuration. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LC_ALL: 'C',
    GIT_AUTHOR_NAME: AUTHOR.name,
    GIT_AUTHOR_EMAIL: AUTHOR.email,
    GIT_COMMITTER_NAME: AUTHOR.name,
    GIT_COMMITTER_EMAIL: AUTHOR.email,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

/**
 * Runs git asynchronously. Never use execFileSync against the in-process git server: a blocked
 * event loop cannot answer the push or fetch, and both sides wait for ever.
 */
export async function gitAsync(dir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd: dir, env: gitEnv(env), maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`git ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Signing keys

/** A key that signs commits: SSH (ed25519 file) or OpenPGP (a throw-away GNUPGHOME). */
export type CommitSigner = SshSigner | GpgSigner;

export interface SshSigner {
  kind: 'ssh';
  /** path of the private key (git's user.signingkey for gpg.format=ssh) */
  keyPath: string;
  /** `ssh-ed25519 AAAA…` */
  publicKey: string;
  /** `SHA256:…` as ssh-keygen -l prints it */
  fingerprint: string;
  /** the allowed_signers line trusting this key for `principal` */
  allowedSigners(principal: string): string;
}

export interface GpgSigner {
  kind: 'openpgp';
  gnupgHome: string;
  /** 40 upper-case hex digits of the primary (signing) key */
  fingerprint: string;
  /** ASCII-armored public key */
  publicKey: string;
  /** stops the gpg-agent of the throw-away home */
  close(): Promise<void>;
}

/** Generates an ed25519 SSH key in `dir` (ssh-keygen -t ed25519 -N ''). */
export async function createSshSigner(dir: string, name = 'signkey'): Promise<SshSigner> {
  const keyPath = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', keyPath]);
  const [type, blob] = readFileSync(`${keyPath}.pub`, 'utf8').trim().split(/\s+/);
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyPath}.pub`]);
  const fingerprint = stdout.split(/\s+/)[1];
  const publicKey = `${type} ${blob}`;
  return {
    kind: 'ssh',
    keyPath,
    publicKey,
    fingerprint,
    allowedSigners: (principal) => `${principal} namespaces="git" ${publicKey}`,
  };
}

/**
 * Generates an OpenPGP ed25519 signing key in a throw-away GNUPGHOME under `dir`
 * (`gpg --batch --passphrase '' --quick-gen-key '<uid>' ed25519 sign never`).
 */
export async function createGpgSigner(dir: string, uid = 'Dev <dev@example.com>'): Promise<GpgSigner> {
  // Short path: gpg-agent's socket path must stay under the unix socket limit.
  const gnupgHome = mkdtempSync(join(tmpdir(), 'sb-gpg-'));
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GNUPGHOME: gnupgHome, LC_ALL: 'C' };
  const gpg = (args: string[]) => run('gpg', ['--batch', '--no-tty', ...args], { env });
  const close = async () => {
    await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
    rmSync(gnupgHome, { recursive: true, force: true });
  };
  try {
    await gpg(['--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
    const { stdout: listing } = await gpg(['--with-colons', '--fingerprint', '--list-keys', uid]);
    const fingerprint = listing
      .split('\n')
      .find((line) => line.startsWith('fpr:'))
      ?.split(':')[9];
    if (!fingerprint || !/^[0-9A-F]{40}$/.test(fingerprint)) throw new Error(`no fingerprint in:\n${listing}`);
    const { stdout: publicKey } = await gpg(['--armor', '--export', fingerprint]);
    return { kind: 'openpgp', gnupgHome, fingerprint, publicKey, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `-c` options and environment that make `git commit -S` / `git tag -s` sign with `signer`. */
function signingConfig(signer: CommitSigner): { config: string[]; env: Record<string, string> } {
  if (signer.kind === 'ssh') {
    return { config: ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signer.keyPath}`], env: {} };
  }
  return {
    config: ['-c', 'gpg.format=openpgp', '-c', 'gpg.program=gpg', '-c', `user.signingkey=${signer.fingerprint}`],
    env: { GNUPGHOME: signer.gnupgHome },
  };
}

// ---------------------------------------------------------------------------------------------
// Repositories on the git server

/** A repository on the test git server and a working clone that pushes to it. */
export class ForgeRepo {
  /** numeric id the forge would give the repository */
  readonly id = randomInt(1_000_000, 900_000_000);

  constructor(
    readonly server: GitHttpServer,
    /** path on the server, e.g. `org/app.git` */
    readonly path: string,
    /** clone URL, `http://127.0.0.1:<port>/org/app.git` */
    readonly url: string,
    /** working tree that commits are made in */
    readonly dir: string,
  ) {}

  /** `org/app` */
  get fullName(): string {
    return this.path.replace(/\.git$/, '');
  }

  /** web page of the repository, `http://127.0.0.1:<port>/org/app` */
  get webUrl(): string {
    return `${this.server.url}/${this.fullName}`;
  }

  /** scp-like ssh address a forge would show (not served: only its path matters to the service) */
  get sshUrl(): string {
    return `git@127.0.0.1:${this.path}`;
  }

  git(args: string[], env: Record<string, string> = {}): Promise<string> {
    return gitAsync(this.dir, args, env);
  }

  /** Commits a change (a new file named after the message) on the current branch; returns the SHA. */
  async commit(message: string, options: { sign?: CommitSigner; files?: Record<string, string> } = {}) {
    const files = options.files ?? { [`changes/${message.replace(/[^A-Za-z0-9]+/g, '-')}.txt`]: `${message}\n` };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(this.dir, path, '..'), { recursive: true });
      writeFileSync(join(this.dir, path), content);
    }
    await this.git(['add', '-A']);
    const signing = options.sign ? signingConfig(options.sign) : undefined;
    await this.git(
      [...(signing?.config ?? []), 'commit', '-q', ...(signing ? ['-S'] : []), '-m', message],
      signing?.env,
    );
    return this.head();
  }

  head(): Promise<string> {
    return this.git(['rev-parse', 'HEAD']);
  }

  /** Switches to `branch`, creating it at `from` (default HEAD) when it does not exist. */
  async checkout(branch: string, from?: string): Promise<void> {
    const exists = await this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).then(
      () => true,
      () => false,
    );
    await this.git(exists ? ['checkout', '-q', branch] : ['checkout', '-q', '-b', branch, ...(from ? [from] : [])]);
  }

  /** Tags HEAD; returns the tag object (annotated) or the commit (lightweight) the ref points to. */
  async tag(
    name: string,
    options: { annotated?: boolean } = {},
  ): Promise<{ ref: string; target: string; commit: string }> {
    await this.git(options.annotated ? ['tag', '-a', '-m', `release ${name}`, name] : ['tag', name]);
    return {
      ref: `refs/tags/${name}`,
      target: await this.git(['rev-parse', `refs/tags/${name}`]),
      commit: await this.git(['rev-parse', `refs/tags/${name}^{commit}`]),
    };
  }

  /** Pushes refspecs over smart HTTP (e.g. `main`, `refs/tags/v1.0.0`, `:refs/heads/old`). */
  async push(...refspecs: string[]): Promise<void> {
    await this.git(['push', '-q', this.url, ...refspecs]);
  }

  /** Describes commits for a payload (id, message, timestamp, author), oldest first. */
  async describe(commits: string[]): Promise<CommitInfo[]> {
    return Promise.all(
      commits.map(async (id) => {
        const [tree, timestamp, ...message] = (await this.git(['show', '-s', '--format=%T%n%cI%n%B', id])).split('\n');
        return { id, treeId: tree, timestamp, message: `${message.join('\n').trim()}\n` };
      }),
    );
  }
}

/** A commit as a payload describes it. */
export interface CommitInfo {
  id: string;
  treeId: string;
  timestamp: string;
  message: string;
}

/**
 * Creates `path` (e.g. `org/app.git`) on the server and a working clone holding the wallet-signer
 * fixture in one commit on `main`, pushed. `workRoot` receives the working tree.
 */
export async function createForgeRepo(server: GitHttpServer, path: string, workRoot: string): Promise<ForgeRepo> {
  const url = server.createRepo(path);
  const dir = join(workRoot, path.replace(/[^A-Za-z0-9]+/g, '-'));
  mkdirSync(dir, { recursive: true });
  await gitAsync(dir, ['init', '-q', '-b', 'main']);
  cpSync(WALLET_SIGNER_FIXTURE, dir, { recursive: true });
  await gitAsync(dir, ['add', '-A']);
  await gitAsync(dir, ['commit', '-q', '-m', 'wallet-signer 1.0'], {
    GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
  });
  const repo = new ForgeRepo(server, path, url, dir);
  await repo.push('main');
  return repo;
}

// ---------------------------------------------------------------------------------------------
// Webhook deliveries, shaped as each forge sends them (git-and-webhooks.md §6)

/** What a push moved, in forge-neutral terms. */
export interface PushSpec {
  ref: string;
  before: string;
  /** the new value of the ref: a commit, an annotated tag object, or zeros for a deletion */
  after: string;
  /** GitLab: the commit to check out (the tag's commit for annotated tags); null on deletion */
  checkoutSha?: string | null;
  /** commits the push introduced, oldest first */
  commits: CommitInfo[];
  /** the commit `after` resolves to (default: the last of `commits`; a new tag lists no commits) */
  headCommit?: CommitInfo;
  /** GitHub: the branch a new tag was pushed from */
  baseRef?: string;
  forced?: boolean;
}

/** The repository as a payload describes it; tests may point some URLs elsewhere. */
export interface PayloadRepository {
  id: number;
  fullName: string;
  cloneUrl: string;
  sshUrl: string;
  htmlUrl: string;
  defaultBranch: string;
}

export function payloadRepository(repo: ForgeRepo, overrides: Partial<PayloadRepository> = {}): PayloadRepository {
  return {
    id: repo.id,
    fullName: repo.fullName,
    cloneUrl: repo.url,
    sshUrl: repo.sshUrl,
    htmlUrl: repo.webUrl,
    defaultBranch: 'main',
    ...overrides,
  };
}

const USER = {
  id: 4242,
  login: AUTHOR.username,
  name: AUTHOR.name,
  email: AUTHOR.email,
};

function headCommitOf(push: PushSpec): CommitInfo | undefined {
  if (/^0+$/.test(push.after)) return undefined;
  return push.headCommit ?? push.commits[push.commits.length - 1];
}

/** GitHub `push` event body (docs.github.com webhook-events-and-payloads#push). */
export function githubPushBody(push: PushSpec, repository: PayloadRepository): Record<string, unknown> {
  const [owner, name] = repository.fullName.split('/');
  const deleted = /^0+$/.test(push.after);
  const ownerObject = {
    name: owner,
    email: null,
    login: owner,
    id: 1000,
    node_id: 'MDQ6VXNlcjEwMDA=',
    avatar_url: 'https://avatars.githubusercontent.com/u/1000?v=4',
    html_url: `https://github.com/${owner}`,
    type: 'Organization',
    site_admin: false,
  };
  const commit = (c: CommitInfo) => ({
    id: c.id,
    tree_id: c.treeId,
    distinct: true,
    message: c.message.trimEnd(),
    timestamp: c.timestamp,
    url: `${repository.htmlUrl}/commit/${c.id}`,
    author: { name: AUTHOR.name, email: AUTHOR.email, username: AUTHOR.username },
    committer: { name: AUTHOR.name, email: AUTHOR.email, username: AUTHOR.username },
    added: [],
    removed: [],
    modified: [],
  });
  const now = Math.floor(Date.now() / 1000);
  const head = headCommitOf(push);
  return {
    ref: push.ref,
    before: push.before,
    after: push.after,
    repository: {
      id: repository.id,
      node_id: 'R_kgDOTEST',
      name,
      full_name: repository.fullName,
      private: false,
      owner: ownerObject,
      html_url: repository.htmlUrl,
      description: 'wallet signer',
      fork: false,
      url: repository.htmlUrl,
      created_at: now - 86_400,
      updated_at: new Date().toISOString(),
      pushed_at: now,
      git_url: repository.cloneUrl.replace(/^https?:/, 'git:'),
      ssh_url: repository.sshUrl,
      clone_url: repository.cloneUrl,
      svn_url: repository.htmlUrl,
      homepage: null,
      size: 1,
      visibility: 'public',
      default_branch: repository.defaultBranch,
      master_branch: repository.defaultBranch,
      organization: owner,
    },
    pusher: { name: USER.login, email: USER.email },
    organization: { login: owner, id: 1000, node_id: 'MDEyOk9yZ2FuaXphdGlvbjEwMDA=' },
    sender: { login: USER.login, id: USER.id, node_id: 'MDQ6VXNlcjQyNDI=', type: 'User', site_admin: false },
    created: /^0+$/.test(push.before),
    deleted,
    forced: push.forced ?? false,
    base_ref: push.baseRef ?? null,
    compare: `${repository.htmlUrl}/compare/${push.before.slice(0, 12)}...${push.after.slice(0, 12)}`,
    commits: push.commits.map(commit),
    head_commit: head ? commit(head) : null,
  };
}

/** Gitea / Forgejo `push` event body (modules/structs PushPayload): GitHub-like, no created/deleted. */
export function giteaPushBody(push: PushSpec, repository: PayloadRepository): Record<string, unknown> {
  const [owner, name] = repository.fullName.split('/');
  const user = {
    id: USER.id,
    login: USER.login,
    login_name: '',
    full_name: USER.name,
    email: USER.email,
    avatar_url: `${repository.htmlUrl.replace(/\/[^/]+\/[^/]+$/, '')}/avatars/1`,
    username: USER.login,
  };
  const commit = (c: CommitInfo) => ({
    id: c.id,
    message: c.message,
    url: `${repository.htmlUrl}/commit/${c.id}`,
    author: { name: AUTHOR.name, email: AUTHOR.email, username: AUTHOR.username },
    committer: { name: AUTHOR.name, email: AUTHOR.email, username: AUTHOR.username },
    verification: null,
    timestamp: c.timestamp,
    added: [],
    removed: [],
    modified: [],
  });
  const head = headCommitOf(push);
  return {
    ref: push.ref,
    before: push.before,
    after: push.after,
    compare_url: `${repository.htmlUrl}/compare/${push.before}...${push.after}`,
    commits: push.commits.map(commit),
    total_commits: push.commits.length,
    head_commit: head ? commit(head) : null,
    repository: {
      id: repository.id,
      owner: { ...user, id: 1000, login: owner, username: owner, full_name: owner },
      name,
      full_name: repository.fullName,
      description: 'wallet signer',
      empty: false,
      private: false,
      fork: false,
      template: false,
      parent: null,
      mirror: false,
      size: 64,
      html_url: repository.htmlUrl,
      url: `${repository.htmlUrl.replace(/\/[^/]+\/[^/]+$/, '')}/api/v1/repos/${repository.fullName}`,
      ssh_url: repository.sshUrl,
      clone_url: repository.cloneUrl,
      original_url: '',
      website: '',
      default_branch: repository.defaultBranch,
      archived: false,
      created_at: '2025-01-01T00:00:00Z',
      updated_at: new Date().toISOString(),
    },
    pusher: user,
    sender: user,
  };
}

/** GitLab `Push Hook` / `Tag Push Hook` body (user/project/integrations/webhook_events.md). */
export function gitlabPushBody(push: PushSpec, repository: PayloadRepository): Record<string, unknown> {
  const tag = push.ref.startsWith('refs/tags/');
  const [namespace, name] = repository.fullName.split('/');
  const deleted = /^0+$/.test(push.after);
  return {
    object_kind: tag ? 'tag_push' : 'push',
    event_name: tag ? 'tag_push' : 'push',
    before: push.before,
    after: push.after,
    ref: push.ref,
    ref_protected: true,
    checkout_sha: push.checkoutSha !== undefined ? push.checkoutSha : deleted ? null : push.after,
    message: null,
    user_id: USER.id,
    user_name: USER.name,
    user_username: USER.login,
    user_email: '',
    user_avatar: null,
    project_id: repository.id,
    project: {
      id: repository.id,
      name,
      description: 'wallet signer',
      web_url: repository.htmlUrl,
      avatar_url: null,
      git_ssh_url: repository.sshUrl,
      git_http_url: repository.cloneUrl,
      namespace,
      visibility_level: 20,
      path_with_namespace: repository.fullName,
      default_branch: repository.defaultBranch,
      ci_config_path: '',
      homepage: repository.htmlUrl,
      url: repository.sshUrl,
      ssh_url: repository.sshUrl,
      http_url: repository.cloneUrl,
    },
    commits: push.commits.map((c) => ({
      id: c.id,
      message: c.message,
      title: c.message.split('\n')[0],
      timestamp: c.timestamp,
      url: `${repository.htmlUrl}/-/commit/${c.id}`,
      author: { name: AUTHOR.name, email: '[REDACTED]' },
      added: [],
      modified: [],
      removed: [],
    })),
    total_commits_count: push.commits.length,
    push_options: {},
    repository: {
      name,
      url: repository.sshUrl,
      description: 'wallet signer',
      homepage: repository.htmlUrl,
      git_http_url: repository.cloneUrl,
      git_ssh_url: repository.sshUrl,
      visibility_level: 20,
    },
  };
}

/** The body each forge sends for `push` (GitLab chooses Push Hook or Tag Push Hook by the ref). */
export function pushBody(forge: Forge, push: PushSpec, repository: PayloadRepository): Record<string, unknown> {
  switch (forge) {
    case 'github':
      return githubPushBody(push, repository);
    case 'gitea':
    case 'forgejo':
      return giteaPushBody(push, repository);
    case 'gitlab':
      return gitlabPushBody(push, repository);
  }
}

/** The event header value a forge sends for a push of `ref`. */
export function pushEventName(forge: Forge, ref: string): string {
  if (forge !== 'gitlab') return 'push';
  return ref.startsWith('refs/tags/') ? 'Tag Push Hook' : 'Push Hook';
}

/** Options of {@link forgeHeaders}. */
export interface DeliveryOptions {
  /** event header value (`push`, `ping`, `Push Hook`, `Tag Push Hook`) */
  event: string;
  /** the delivery id; a redelivery reuses it (GitLab: Idempotency-Key) */
  deliveryId: string;
  /** GitLab only: X-Gitlab-Event-UUID (a new one per attempt unless given) */
  eventUuid?: string;
}

function hmacHex(algorithm: 'sha1' | 'sha256', secret: string, body: Buffer): string {
  return createHmac(algorithm, secret).update(body).digest('hex');
}

/**
 * Every header the forge sends with `body`, computed here independently of libs/webhooks:
 * - github: X-GitHub-Event, X-GitHub-Delivery, X-GitHub-Hook-ID, X-Hub-Signature(-256), User-Agent
 * - gitea: X-Gitea-{Delivery,Event,Event-Type,Signature}, the X-Gogs-* and X-GitHub-* copies,
 *   X-Hub-Signature (sha1) and X-Hub-Signature-256
 * - forgejo: X-Forgejo-{Delivery,Event,Event-Type,Signature} plus all of Gitea's headers
 * - gitlab: X-Gitlab-Event, X-Gitlab-Token (the secret in clear), X-Gitlab-Event-UUID,
 *   X-Gitlab-Webhook-UUID, X-Gitlab-Instance, Idempotency-Key, User-Agent
 */
export function forgeHeaders(
  forge: Forge,
  body: Buffer,
  secret: string,
  options: DeliveryOptions,
): Record<string, string> {
  const { event, deliveryId } = options;
  const sha256 = hmacHex('sha256', secret, body);
  const sha1 = hmacHex('sha1', secret, body);
  const json = { 'Content-Type': 'application/json' };
  switch (forge) {
    case 'github':
      return {
        ...json,
        'User-Agent': 'GitHub-Hookshot/7a0b8b2',
        'X-GitHub-Event': event,
        'X-GitHub-Delivery': deliveryId,
        'X-GitHub-Hook-ID': '450010001',
        'X-GitHub-Hook-Installation-Target-Type': 'repository',
        'X-GitHub-Hook-Installation-Target-ID': '186853002',
        'X-Hub-Signature': `sha1=${sha1}`,
        'X-Hub-Signature-256': `sha256=${sha256}`,
      };
    case 'gitea':
    case 'forgejo': {
      const gitea = {
        ...json,
        'X-Gitea-Delivery': deliveryId,
        'X-Gitea-Event': event,
        'X-Gitea-Event-Type': event,
        'X-Gitea-Signature': sha256,
        'X-Gogs-Delivery': deliveryId,
        'X-Gogs-Event': event,
        'X-Gogs-Event-Type': event,
        'X-Gogs-Signature': sha256,
        'X-Hub-Signature': `sha1=${sha1}`,
        'X-Hub-Signature-256': `sha256=${sha256}`,
        'X-GitHub-Delivery': deliveryId,
        'X-GitHub-Event': event,
        'X-GitHub-Event-Type': event,
      };
      if (forge === 'gitea') return gitea;
      return {
        ...gitea,
        'X-Forgejo-Delivery': deliveryId,
        'X-Forgejo-Event': event,
        'X-Forgejo-Event-Type': event,
        'X-Forgejo-Signature': sha256,
      };
    }
    case 'gitlab':
      return {
        ...json,
        'User-Agent': 'GitLab/17.5.0',
        'X-Gitlab-Event': event,
        'X-Gitlab-Token': secret,
        'X-Gitlab-Instance': 'https://gitlab.example.com',
        'X-Gitlab-Webhook-UUID': '8e4a2b8c-2f7f-4b7e-9f4e-6a1d1b9f3c10',
        'X-Gitlab-Event-UUID': options.eventUuid ?? randomUUID(),
        'Idempotency-Key': deliveryId,
      };
  }
}

/** A delivery ready to POST: the exact bytes and the headers signed over them. */
export interface Delivery {
  forge: Forge;
  deliveryId: string;
  body: Buffer;
  headers: Record<string, string>;
}

/** Serializes `payload` (or takes raw bytes as they are) and signs those exact bytes. */
export function makeDelivery(
  forge: Forge,
  payload: Record<string, unknown> | Buffer,
  secret: string,
  options: { event: string; deliveryId?: string; eventUuid?: string },
): Delivery {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload), 'utf8');
  const deliveryId = options.deliveryId ?? randomUUID();
  return { forge, deliveryId, body, headers: forgeHeaders(forge, body, secret, { ...options, deliveryId }) };
}

/** A push delivery for `push` as `forge` would send it. */
export function pushDelivery(
  forge: Forge,
  push: PushSpec,
  repository: PayloadRepository,
  secret: string,
  options: { deliveryId?: string } = {},
): Delivery {
  return makeDelivery(forge, pushBody(forge, push, repository), secret, {
    event: pushEventName(forge, push.ref),
    ...options,
  });
}

/** Response of the webhook endpoint. */
export interface WebhookAnswer {
  status: number;
  body: {
    deliveryId?: string;
    outcome?: 'build' | 'ignored';
    buildId?: string | null;
    reason?: string;
    duplicate?: boolean;
    code?: string;
    message?: string;
    field?: string;
  };
  text: string;
}

/** POSTs a delivery to `/v1/webhooks/{provider}/{project}` of the API (provider defaults to the forge). */
export async function deliver(
  apiUrl: string,
  project: string,
  delivery: Delivery,
  provider: string = delivery.forge,
): Promise<WebhookAnswer> {
  const response = await fetch(`${apiUrl}/v1/webhooks/${provider}/${project}`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  const text = await response.text();
  let body: WebhookAnswer['body'] = {};
  try {
    body = JSON.parse(text) as WebhookAnswer['body'];
  } catch {
    // not JSON
  }
  return { status: response.status, body, text };
}
