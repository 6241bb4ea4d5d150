import type { ProjectRecord, Store } from '@secure-build/store';

import { SecretBox } from '../secrets/secret-box';
import { ServiceError } from '../service.error';
import { isProjectName, parseCreateProject, parseUpdateProject, ProjectFields } from './project-request';

/** A project as the API shows it: the webhook secret is write-only and never returned. */
export interface ProjectView {
  id: string;
  name: string;
  repository: string;
  allowedRefs: string[];
  recipePath: string;
  imageName: string | null;
  webhook: { provider: string; secretConfigured: boolean; url: string } | null;
  signaturePolicy: unknown;
  createdAt: string;
  updatedAt: string;
}

let changes = 0;

/**
 * Counts project changes made through any ProjectsService in this process, so that caches of
 * project records (the webhook receiver's) drop them at once; other processes rely on the cache TTL.
 */
export function projectChangeCount(): number {
  return changes;
}

/** Purpose string binding a sealed webhook secret to its project. */
export function webhookSecretPurpose(projectId: string): string {
  return `webhook-secret:${projectId}`;
}

/** Admin CRUD for projects; webhook secrets are sealed before they reach the store. */
export class ProjectsService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly options: { publicUrl: string; allowLocalRepos: boolean },
  ) {}

  async create(body: unknown): Promise<ProjectView> {
    const fields = parseCreateProject(body, this.options);
    const created = await this.store.projects.create({ ...this.toRecordFields(fields), webhookSecretSealed: null });
    changes++;
    if (!fields.webhook) return this.view(created);
    // The secret is sealed with the project id as purpose, so it is written once the id exists.
    const sealed = this.secrets.seal(fields.webhook.secret, webhookSecretPurpose(created.id));
    return this.view((await this.store.projects.update(created.name, { webhookSecretSealed: sealed })) ?? created);
  }

  async list(): Promise<{ items: ProjectView[] }> {
    return { items: (await this.store.projects.list()).map((p) => this.view(p)) };
  }

  async get(name: string): Promise<ProjectView> {
    return this.view(await this.find(name));
  }

  async update(name: string, body: unknown): Promise<ProjectView> {
    const existing = await this.find(name);
    const patch = parseUpdateProject(body, this.options);
    const { webhook, ...rest } = patch;
    const record: Partial<Omit<ProjectRecord, 'id' | 'createdAt' | 'updatedAt'>> = { ...rest };
    if (webhook !== undefined) {
      record.webhookProvider = webhook?.provider ?? null;
      record.webhookSecretSealed = webhook
        ? this.secrets.seal(webhook.secret, webhookSecretPurpose(existing.id))
        : null;
    }
    changes++; // before and after the write: a lookup racing with it is never cached as current
    const updated = await this.store.projects.update(name, record).finally(() => changes++);
    if (!updated) throw notFound(name);
    return this.view(updated);
  }

  async delete(name: string): Promise<void> {
    // A name no project can have (e.g. with a NUL byte, which PostgreSQL refuses) is simply not found.
    if (!isProjectName(name)) throw notFound(name);
    changes++;
    const deleted = await this.store.projects.delete(name).finally(() => changes++);
    if (!deleted) throw notFound(name);
  }

  private async find(name: string): Promise<ProjectRecord> {
    const project = isProjectName(name) ? await this.store.projects.get(name) : undefined;
    if (!project) throw notFound(name);
    return project;
  }

  private toRecordFields(fields: ProjectFields) {
    return {
      name: fields.name,
      repository: fields.repository,
      allowedRefs: fields.allowedRefs,
      recipePath: fields.recipePath,
      imageName: fields.imageName,
      webhookProvider: fields.webhook?.provider ?? null,
      signaturePolicy: fields.signaturePolicy,
    };
  }

  private view(project: ProjectRecord): ProjectView {
    return {
      id: project.id,
      name: project.name,
      repository: project.repository,
      allowedRefs: project.allowedRefs,
      recipePath: project.recipePath,
      imageName: project.imageName,
      webhook: project.webhookProvider
        ? {
            provider: project.webhookProvider,
            secretConfigured: project.webhookSecretSealed !== null,
            url: `${this.options.publicUrl}/v1/webhooks/${project.webhookProvider}/${project.name}`,
          }
        : null,
      signaturePolicy: project.signaturePolicy,
      createdAt: project.createdAt.toISOString(),
      updatedAt: project.updatedAt.toISOString(),
    };
  }
}

function notFound(name: string): ServiceError {
  return new ServiceError('NOT_FOUND', `project ${name} not found`);
}
