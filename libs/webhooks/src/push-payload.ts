import { describeSchemaIssue, hasControlCharacter } from '@secure-build/common';
import { parseCommitSha, parseGitRef } from '@secure-build/source';
import { z } from 'zod';

import type { PushEvent } from './delivery.types';
import { webhookError } from './webhook-error';

const MAX_URL_LENGTH = 2048;
const MAX_NAME_LENGTH = 512;
const MAX_USER_LENGTH = 256;
const MAX_SHORT_TEXT_LENGTH = 64;
/** Commit messages are display text only, so long ones are shortened rather than refused. */
const MAX_MESSAGE_LENGTH = 4096;
const ZEROS = /^(?:0{40}|0{64})$/;

const text = (max: number) =>
  z
    .string()
    .min(1, 'is empty')
    .max(max, `is longer than ${max} characters`)
    .refine((s) => !hasControlCharacter(s), 'contains control characters');
const url = text(MAX_URL_LENGTH).refine((s) => !/\s/.test(s), 'contains whitespace');
const repositoryId = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^[A-Za-z0-9_=-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9_=-]'),
]);
const commit = z.object({
  id: z.string(),
  timestamp: text(MAX_SHORT_TEXT_LENGTH).nullish(),
  message: z.string().nullish(),
});

/** GitHub push payload; Gitea and Forgejo send the same field names (Gitea has no `deleted`). */
const githubLikePushSchema = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().nullish(),
  repository: z.object({
    id: repositoryId.nullish(),
    full_name: text(MAX_NAME_LENGTH).nullish(),
    clone_url: url.nullish(),
    ssh_url: url.nullish(),
    html_url: url.nullish(),
    git_url: url.nullish(),
  }),
  pusher: z
    .object({
      name: text(MAX_USER_LENGTH).nullish(),
      login: text(MAX_USER_LENGTH).nullish(),
      username: text(MAX_USER_LENGTH).nullish(),
    })
    .nullish(),
  head_commit: commit.nullish(),
});

const gitlabRepositoryUrls = { git_http_url: url.nullish(), git_ssh_url: url.nullish() };

/** GitLab `Push Hook` / `Tag Push Hook` payload. */
const gitlabPushSchema = z.object({
  object_kind: z.string().max(MAX_SHORT_TEXT_LENGTH).nullish(),
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  checkout_sha: z.string().nullable().optional(),
  user_username: text(MAX_USER_LENGTH).nullish(),
  user_name: text(MAX_USER_LENGTH).nullish(),
  project_id: repositoryId.nullish(),
  project: z
    .object({
      id: repositoryId.nullish(),
      path_with_namespace: text(MAX_NAME_LENGTH).nullish(),
      web_url: url.nullish(),
      ...gitlabRepositoryUrls,
    })
    .nullish(),
  repository: z.object(gitlabRepositoryUrls).nullish(),
  commits: z.array(commit).max(10_000, 'has too many entries').nullish(),
});

/**
 * Validates a GitHub, Gitea or Forgejo push body and maps it to a PushEvent. Throws
 * PAYLOAD_INVALID naming the field path.
 */
export function parseGithubLikePush(body: Record<string, unknown>): PushEvent {
  const p = validate(githubLikePushSchema, body);
  const ref = checkRef(p.ref);
  const before = checkCommitOrZeros(p.before, 'before');
  const after = checkCommitOrZeros(p.after, 'after');
  const r = p.repository;
  const deleted = p.deleted === true || ZEROS.test(after);
  const refType = refTypeOf(ref);
  const head = p.head_commit ? headCommit(p.head_commit, 'head_commit') : undefined;
  return {
    ref,
    before,
    // For an annotated tag `after` is the tag object; head_commit is the commit it points to (GitHub
    // and Gitea). Which commit is built stays safe: the worker proves it is reachable from the tag.
    after: !deleted && refType === 'tag' && head ? head.id : after,
    deleted,
    refType,
    repository: repository([r.clone_url, r.ssh_url, r.html_url, r.git_url], 'repository.clone_url', {
      fullName: r.full_name ?? undefined,
      id: r.id ?? undefined,
    }),
    ...optional('pusher', p.pusher?.name ?? p.pusher?.login ?? p.pusher?.username ?? undefined),
    ...optional('headCommit', head),
  };
}

/**
 * Validates a GitLab push or tag push body and maps it to a PushEvent; `after` becomes
 * `checkout_sha` when present. `eventName` must agree with the ref kind and `object_kind`.
 */
export function parseGitlabPush(body: Record<string, unknown>, eventName: string): PushEvent {
  const p = validate(gitlabPushSchema, body);
  const ref = checkRef(p.ref);
  const refType = refTypeOf(ref);
  const tagHook = eventName === 'Tag Push Hook';
  if (refType !== (tagHook ? 'tag' : 'branch')) {
    payloadInvalid('ref', `must be ${tagHook ? 'refs/tags/…' : 'refs/heads/…'} for a ${eventName} event`);
  }
  const kind = tagHook ? 'tag_push' : 'push';
  if (p.object_kind != null && p.object_kind !== kind) {
    payloadInvalid('object_kind', `must be "${kind}" for a ${eventName} event`);
  }
  const before = checkCommitOrZeros(p.before, 'before');
  const after = checkCommitOrZeros(p.after, 'after');
  const checkout = p.checkout_sha == null ? undefined : checkCommit(p.checkout_sha, 'checkout_sha');
  const deleted = ZEROS.test(after);
  const target = deleted ? after : (checkout ?? after);
  const head = deleted ? undefined : findCommit(p.commits ?? [], target);
  const project = p.project ?? undefined;
  const urls = [project?.git_http_url, project?.git_ssh_url, project?.web_url];
  urls.push(p.repository?.git_http_url, p.repository?.git_ssh_url);
  return {
    ref,
    before,
    after: target,
    deleted,
    refType,
    repository: repository(urls, 'project.git_http_url', {
      fullName: project?.path_with_namespace ?? undefined,
      id: project?.id ?? p.project_id ?? undefined,
    }),
    ...optional('pusher', p.user_username ?? p.user_name ?? undefined),
    ...optional('headCommit', head && headCommit(head.commit, `commits.${head.index}`)),
  };
}

function validate<T>(schema: z.ZodType<T>, body: Record<string, unknown>): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const { field, message } = describeSchemaIssue(result.error.issues[0], body);
  return payloadInvalid(field, message);
}

function payloadInvalid(field: string, why: string, cause?: unknown): never {
  throw webhookError('PAYLOAD_INVALID', `push payload field ${field}: ${why}`, field, cause);
}

function checkRef(ref: string): string {
  try {
    return parseGitRef(ref);
  } catch (cause) {
    return payloadInvalid('ref', cause instanceof Error ? cause.message : 'is not a branch or tag ref', cause);
  }
}

function checkCommit(value: string, field: string): string {
  if (ZEROS.test(value)) payloadInvalid(field, 'is all zeros: expected the full SHA of a commit');
  try {
    return parseCommitSha(value);
  } catch (cause) {
    return payloadInvalid(field, cause instanceof Error ? cause.message : 'is not a full commit SHA', cause);
  }
}

function checkCommitOrZeros(value: string, field: string): string {
  return ZEROS.test(value) ? value : checkCommit(value, field);
}

function refTypeOf(ref: string): 'branch' | 'tag' {
  return ref.startsWith('refs/tags/') ? 'tag' : 'branch';
}

function repository(
  urls: (string | null | undefined)[],
  field: string,
  rest: { fullName?: string; id?: string | number },
): PushEvent['repository'] {
  const cloneUrls = [...new Set(urls.filter((u): u is string => typeof u === 'string'))];
  if (cloneUrls.length === 0) payloadInvalid(field, 'the payload names no repository URL');
  return { cloneUrls, ...optional('fullName', rest.fullName), ...optional('id', rest.id) };
}

function findCommit<C extends { id: string }>(commits: C[], id: string): { commit: C; index: number } | undefined {
  const index = commits.findIndex((c) => c.id.toLowerCase() === id);
  return index < 0 ? undefined : { commit: commits[index], index };
}

function headCommit(c: z.infer<typeof commit>, field: string): NonNullable<PushEvent['headCommit']> {
  return {
    id: checkCommit(c.id, `${field}.id`),
    ...optional('timestamp', c.timestamp ?? undefined),
    ...optional('message', c.message == null ? undefined : shorten(c.message)),
  };
}

function shorten(message: string): string {
  if (message.length <= MAX_MESSAGE_LENGTH) return message;
  const cut = message.slice(0, MAX_MESSAGE_LENGTH).replace(/[\uD800-\uDBFF]$/, '');
  return `${cut}…`;
}

/** `{ [key]: value }` when value is defined, else `{}`: keeps absent fields absent, not undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
