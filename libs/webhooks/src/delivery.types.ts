import type { WebhookProvider } from './provider';

/** What a verified delivery asks for; only `push` can start a build. */
export type WebhookEventKind = 'push' | 'ping' | 'other';

/** A verified, parsed delivery. Nothing in it may choose what gets cloned (see {@link PushRepository}). */
export interface WebhookDelivery {
  provider: WebhookProvider;
  /** The forge's id for this delivery, reused on redelivery: the key for deduplication and job ids. */
  deliveryId: string;
  /** Event header value as sent, e.g. `push`, `ping`, `create`, `Tag Push Hook`. */
  eventName: string;
  kind: WebhookEventKind;
  /** Present exactly when `kind` is `push`. */
  push?: PushEvent;
}

/** A ref update announced by a push webhook, validated and mapped to one shape for every forge. */
export interface PushEvent {
  /** Full ref that moved, `refs/heads/<branch>` or `refs/tags/<tag>`; passed parseGitRef. */
  ref: string;
  /** Previous commit of the ref (lower-case full SHA), all zeros when the ref was created. */
  before: string;
  /**
   * The commit to build (lower-case full SHA): `after` on GitHub, Gitea and Forgejo, except for a
   * tag push with a `head_commit`, whose id is used (`after` is then the annotated tag object); on
   * GitLab `checkout_sha` when present (for a tag push `after` can be the annotated tag object),
   * else `after`. All zeros when the ref was deleted.
   */
  after: string;
  /** The ref was deleted (`deleted: true` or `after` all zeros): acknowledge, build nothing. */
  deleted: boolean;
  refType: 'branch' | 'tag';
  repository: PushRepository;
  /** Login of the user who pushed, when the forge says (untrusted display text). */
  pusher?: string;
  /** The commit `after` points at, when the payload describes it (untrusted display text). */
  headCommit?: { id: string; timestamp?: string; message?: string };
}

/**
 * The repository as the payload describes it. These URLs are claims, used only to check that the
 * delivery concerns the configured project (see repositoryMatches); never clone from them.
 */
export interface PushRepository {
  /** Every URL the payload gives for the repository (clone, ssh, web), deduplicated, unvalidated. */
  cloneUrls: string[];
  /** `owner/name` (GitHub, Gitea, Forgejo `full_name`; GitLab `path_with_namespace`). */
  fullName?: string;
  /** The forge's numeric (or string) repository / project id. */
  id?: string | number;
}
