import {
  IncomingHeaders,
  parseWebhookDelivery,
  parseWebhookProvider,
  PushEvent,
  repositoryMatches,
  verifyWebhookSignature,
  WebhookProvider,
} from '@secure-build/webhooks';
import type { ProjectRecord, Store } from '@secure-build/store';

import type { BuildQueue } from '../queue/build-queue';
import { isProjectName, refAllowed } from '../projects/project-request';
import { projectChangeCount, webhookSecretPurpose } from '../projects/projects.service';
import { SecretBox } from '../secrets/secret-box';
import { ServiceError } from '../service.error';

/** The answer to a webhook delivery: 202 for a new one (built or acknowledged), 200 for a redelivery. */
export interface WebhookReply {
  status: 200 | 202;
  body: { deliveryId: string; outcome: 'build' | 'ignored'; buildId: string | null; reason?: string; duplicate?: true };
}

/**
 * How long one API process reuses a project record and its opened webhook secret between deliveries
 * (a project lookup and an AES-GCM open per delivery otherwise). Changes made through this process
 * apply at once; changes made through another API process apply within this time.
 */
export const PROJECT_CACHE_TTL_MS = 1000;
const MAX_CACHED_PROJECTS = 1024;

interface KnownProject {
  project: ProjectRecord;
  /** the opened webhook secret */
  secret: string;
  cached?: boolean;
}

interface CachedProject extends KnownProject {
  /** projectChangeCount() when the record was read */
  changes: number;
  expiresAt: number;
}

/**
 * Turns verified push deliveries into pinned builds. Order matters: the project and its secret are
 * looked up by the URL path (never the payload), the signature is checked over the raw bytes before
 * anything in the body is trusted, and the URL that will be cloned always comes from the project.
 */
export class WebhooksService {
  private readonly projects = new Map<string, CachedProject>();

  constructor(
    private readonly store: Store,
    private readonly queue: BuildQueue,
    private readonly secrets: SecretBox,
    private readonly onEnqueueFailed?: (buildId: string, error: unknown) => void,
    private readonly cacheTtlMs = PROJECT_CACHE_TTL_MS,
  ) {}

  async receive(
    providerName: string,
    projectName: string,
    headers: IncomingHeaders,
    rawBody: Buffer | undefined,
  ): Promise<WebhookReply> {
    const provider = parseWebhookProvider(providerName);
    const body = rawBody ?? Buffer.alloc(0);
    const found = await this.lookUp(projectName, { fresh: false });
    if (!found.cached) return this.handle(provider, found, headers, body);
    try {
      return await this.handle(provider, found, headers, body);
    } catch {
      // The cached record may be stale (secret rotated, provider or refs changed, project deleted
      // through another API process): a refusal is only final when it holds for the current record.
      this.projects.delete(projectName);
      return this.handle(provider, await this.lookUp(projectName, { fresh: true }), headers, body);
    }
  }

  /** Verifies, decides and records one delivery for `found` (the project named by the URL path). */
  private async handle(
    provider: WebhookProvider,
    { project, secret }: KnownProject,
    headers: IncomingHeaders,
    body: Buffer,
  ): Promise<WebhookReply> {
    if (!sameProvider(project.webhookProvider ?? '', provider)) {
      throw new ServiceError(
        'NOT_FOUND',
        `project '${project.name}' receives ${project.webhookProvider} webhooks, not ${provider}`,
      );
    }
    verifyWebhookSignature(provider, headers, body, secret);
    const delivery = parseWebhookDelivery(provider, headers, body);

    const decision = this.decide(project, delivery.kind, delivery.eventName, delivery.push);
    const recorded = await this.store.deliveries.record({
      provider,
      deliveryId: delivery.deliveryId,
      projectId: project.id,
      decision:
        decision.outcome === 'ignored'
          ? decision
          : {
              outcome: 'build',
              build: {
                repository: project.repository,
                commit: decision.push.after,
                ref: decision.push.ref,
                recipePath: project.recipePath,
                imageName: project.imageName ?? undefined,
                projectId: project.id,
                signaturePolicy: project.signaturePolicy,
              },
            },
    });
    const reason = decision.outcome === 'ignored' ? decision.reason : undefined;
    if (recorded.duplicate) {
      return {
        status: 200,
        body: {
          deliveryId: delivery.deliveryId,
          outcome: recorded.outcome,
          buildId: recorded.buildId,
          duplicate: true,
          // What was decided the first time, even if the project changed since.
          ...(recorded.reason ? { reason: recorded.reason } : {}),
        },
      };
    }
    if (recorded.buildId && decision.outcome === 'build') {
      await this.queue
        .enqueue({
          buildId: recorded.buildId,
          repository: project.repository,
          commit: decision.push.after,
          ref: decision.push.ref,
          recipePath: project.recipePath,
          ...(project.imageName ? { imageName: project.imageName } : {}),
        })
        .catch((error: unknown) => this.onEnqueueFailed?.(recorded.buildId ?? '', error)); // the sweeper queues it later
    }
    return {
      status: 202,
      body: {
        deliveryId: delivery.deliveryId,
        outcome: recorded.outcome,
        buildId: recorded.buildId,
        ...(reason ? { reason } : {}),
      },
    };
  }

  /**
   * The project named by the URL path (never by the payload) with its opened secret. Reused for
   * {@link PROJECT_CACHE_TTL_MS} unless a ProjectsService of this process changed a project since.
   */
  private async lookUp(name: string, { fresh }: { fresh: boolean }): Promise<KnownProject> {
    const changes = projectChangeCount();
    const hit = fresh ? undefined : this.projects.get(name);
    if (hit && hit.changes === changes && hit.expiresAt > Date.now()) return { ...hit, cached: true };
    // A name no project can have (e.g. with a NUL byte, which PostgreSQL refuses) is simply unknown.
    const project = isProjectName(name) ? await this.store.projects.get(name) : undefined;
    if (!project || !project.webhookProvider || !project.webhookSecretSealed) {
      this.projects.delete(name);
      throw new ServiceError('NOT_FOUND', `no project '${name}' with a webhook`);
    }
    const secret = this.secrets.open(project.webhookSecretSealed, webhookSecretPurpose(project.id));
    if (this.projects.size >= MAX_CACHED_PROJECTS) this.projects.clear();
    this.projects.set(name, { project, secret, changes, expiresAt: Date.now() + this.cacheTtlMs });
    return { project, secret, cached: false };
  }

  private decide(
    project: ProjectRecord,
    kind: 'push' | 'ping' | 'other',
    eventName: string,
    push: PushEvent | undefined,
  ): { outcome: 'build'; push: PushEvent } | { outcome: 'ignored'; reason: string } {
    if (kind === 'ping') return { outcome: 'ignored', reason: 'ping: the webhook is set up; nothing to build' };
    if (kind !== 'push' || !push) return { outcome: 'ignored', reason: `event '${eventName}' does not start builds` };
    // The payload's repository is a claim: it must name the project's repository, which is what we clone.
    if (!repositoryMatches(project.repository, push)) {
      throw new ServiceError(
        'VALIDATION_FAILED',
        `repository: the payload names ${push.repository.fullName ?? 'another repository'}, not this project's ${project.repository}`,
        {
          details: { field: 'repository' },
        },
      );
    }
    if (push.deleted) return { outcome: 'ignored', reason: `${push.ref} was deleted; nothing to build` };
    if (!refAllowed(push.ref, project.allowedRefs)) {
      return {
        outcome: 'ignored',
        reason: `${push.ref} is not among the project's allowed refs (${project.allowedRefs.join(', ')})`,
      };
    }
    return { outcome: 'build', push };
  }
}

// Forgejo sends Gitea's headers too, so a Gitea project accepts either name and vice versa.
function sameProvider(configured: string, received: WebhookProvider): boolean {
  const family = (p: string) => (p === 'forgejo' ? 'gitea' : p);
  return family(configured) === family(received);
}
