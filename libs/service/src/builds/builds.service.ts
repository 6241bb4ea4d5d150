import type { BuildStatus, Store } from '@secure-build/store';

import type { BuildQueue } from '../queue/build-queue';
import { invalidField, ServiceError } from '../service.error';
import { BuildRequest, buildRequestHash, parseBuildRequest } from './build-request';
import { BuildView, toBuildView } from './build-view';

const STATUSES: readonly BuildStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Options the builds service needs from configuration. */
export interface BuildsServiceOptions {
  publicUrl: string;
  allowLocalRepos: boolean;
  onEnqueueFailed?: (buildId: string, error: unknown) => void;
}

/** Accepts, lists, shows and cancels builds. The store is the source of truth; the queue only schedules. */
export class BuildsService {
  constructor(
    private readonly store: Store,
    private readonly queue: BuildQueue,
    private readonly options: BuildsServiceOptions,
  ) {}

  /**
   * Accepts a build: the row is committed first, then the job is queued. If queueing fails the
   * build is still accepted; the sweeper queues it once Redis is back, so nothing accepted is lost.
   */
  async submit(
    body: unknown,
    principal: { tokenId?: string },
    idempotencyKey?: string,
  ): Promise<{ build: BuildView; created: boolean }> {
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      throw invalidField('Idempotency-Key', 'must be 1-255 printable ASCII characters');
    }
    const request = parseBuildRequest(body, { allowLocalRepos: this.options.allowLocalRepos });
    const { build, created } = await this.store.builds.create({
      repository: request.repository,
      commit: request.commit,
      ref: request.ref,
      recipePath: request.recipePath,
      imageName: request.imageName,
      createdBy: principal.tokenId,
      idempotencyKey,
      // Only a replayed key is compared with its first request.
      requestHash: idempotencyKey === undefined ? undefined : buildRequestHash(request),
    });
    if (created) await this.enqueue(build.id, request);
    return { build: toBuildView(build, this.options.publicUrl), created };
  }

  async get(id: string): Promise<BuildView> {
    const build = await this.find(id);
    return toBuildView(build, this.options.publicUrl, await this.store.builds.stages(build.id));
  }

  async list(query: {
    repository?: string;
    status?: string;
    commit?: string;
    limit?: string;
    cursor?: string;
  }): Promise<{ items: BuildView[]; nextCursor: string | null }> {
    for (const key of ['repository', 'status', 'commit', 'limit', 'cursor'] as const) {
      // A repeated query parameter arrives as an array, which would otherwise match nothing.
      if (query[key] !== undefined && typeof query[key] !== 'string') throw invalidField(key, 'must be given once');
    }
    if (query.status !== undefined && !STATUSES.includes(query.status as BuildStatus)) {
      throw invalidField('status', `must be one of ${STATUSES.join(', ')}`);
    }
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalidField('limit', 'must be an integer 1-200');
    if (query.commit !== undefined && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(query.commit)) {
      throw invalidField('commit', 'must be a full lower-case commit SHA');
    }
    const page = await this.store.builds.list({
      repository: query.repository,
      status: query.status as BuildStatus | undefined,
      commit: query.commit,
      limit,
      cursor: query.cursor,
    });
    return { items: page.items.map((b) => toBuildView(b, this.options.publicUrl)), nextCursor: page.nextCursor };
  }

  /** Cancels a queued or running build; a running build's worker sees it and kills the sandbox. */
  async cancel(id: string): Promise<BuildView> {
    const build = await this.find(id);
    const outcome = await this.store.builds.cancel(build.id);
    if (outcome === 'already-terminal') {
      throw new ServiceError('CONFLICT', `build ${id} already ${(await this.find(id)).status}; nothing to cancel`);
    }
    await this.queue.remove(build.id).catch(() => false);
    return this.get(id);
  }

  /** Log chunks after `afterId`, and whether the build has ended (no more will come). */
  async logs(id: string, afterId = 0): Promise<{ chunks: { id: number; chunk: string }[]; ended: boolean }> {
    const build = await this.find(id);
    const chunks = await this.store.logs.read(build.id, afterId, 1000);
    const ended = ['succeeded', 'failed', 'cancelled'].includes(build.status);
    return { chunks: chunks.map((c) => ({ id: c.id, chunk: c.chunk })), ended };
  }

  private async find(id: string) {
    const build = UUID.test(id) ? await this.store.builds.get(id.toLowerCase()) : undefined;
    if (!build) throw new ServiceError('NOT_FOUND', `build ${id} not found`);
    return build;
  }

  private async enqueue(buildId: string, request: BuildRequest): Promise<void> {
    try {
      await this.queue.enqueue({
        buildId,
        repository: request.repository,
        commit: request.commit,
        recipePath: request.recipePath,
        ...(request.ref ? { ref: request.ref } : {}),
        ...(request.imageName ? { imageName: request.imageName } : {}),
      });
    } catch (error) {
      this.options.onEnqueueFailed?.(buildId, error);
    }
  }
}
