import { randomUUID } from 'node:crypto';

import type { SqlClient } from '../sql/sql-client';
import { isUuid, toDate } from '../sql/sql-value.util';
import { StoreError } from '../store.error';

/** A project: a repository whose pushes (announced by a forge webhook) start pinned builds. */
export interface ProjectRecord {
  id: string;
  name: string;
  repository: string;
  allowedRefs: string[];
  recipePath: string;
  imageName: string | null;
  webhookProvider: string | null;
  /** The webhook secret sealed by the service (never the plaintext). */
  webhookSecretSealed: string | null;
  signaturePolicy: unknown;
  createdAt: Date;
  updatedAt: Date;
}

/** Fields of a new project. */
export type ProjectInput = Omit<ProjectRecord, 'id' | 'createdAt' | 'updatedAt'>;

/** Projects by unique name. */
export interface ProjectRepository {
  /** Inserts a project; a taken name → StoreError('CONFLICT'). */
  create(input: ProjectInput): Promise<ProjectRecord>;
  get(name: string): Promise<ProjectRecord | undefined>;
  getById(id: string): Promise<ProjectRecord | undefined>;
  /** Every project, by name. */
  list(): Promise<ProjectRecord[]>;
  /** Replaces the given fields; undefined when the project does not exist. */
  update(name: string, patch: Partial<ProjectInput>): Promise<ProjectRecord | undefined>;
  /** Deletes the project (its deliveries go with it; its builds stay); false when unknown. */
  delete(name: string): Promise<boolean>;
}

const COLUMNS = `id, name, repository, allowed_refs, recipe_path, image_name, webhook_provider, webhook_secret_sealed,
  signature_policy, created_at, updated_at`;
const FIELDS: Record<keyof ProjectInput, string> = {
  name: 'name',
  repository: 'repository',
  allowedRefs: 'allowed_refs',
  recipePath: 'recipe_path',
  imageName: 'image_name',
  webhookProvider: 'webhook_provider',
  webhookSecretSealed: 'webhook_secret_sealed',
  signaturePolicy: 'signature_policy',
};

/** SQL implementation of {@link ProjectRepository}. */
export class SqlProjectRepository implements ProjectRepository {
  constructor(private readonly sql: SqlClient) {}

  async create(input: ProjectInput): Promise<ProjectRecord> {
    const result = await this.sql.query(
      `INSERT INTO projects (id, name, repository, allowed_refs, recipe_path, image_name, webhook_provider,
         webhook_secret_sealed, signature_policy)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ($9::text)::jsonb)
       ON CONFLICT (name) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        input.name,
        input.repository,
        input.allowedRefs,
        input.recipePath,
        input.imageName,
        input.webhookProvider,
        input.webhookSecretSealed,
        JSON.stringify(input.signaturePolicy ?? { mode: 'none' }),
      ],
    );
    if (result.rows.length === 0) throw new StoreError('CONFLICT', `project '${input.name}' already exists`);
    return toProject(result.rows[0]);
  }

  async get(name: string): Promise<ProjectRecord | undefined> {
    const result = await this.sql.query(`SELECT ${COLUMNS} FROM projects WHERE name = $1`, [name]);
    return result.rows.length === 1 ? toProject(result.rows[0]) : undefined;
  }

  async getById(id: string): Promise<ProjectRecord | undefined> {
    if (!isUuid(id)) return undefined;
    const result = await this.sql.query(`SELECT ${COLUMNS} FROM projects WHERE id = $1`, [id]);
    return result.rows.length === 1 ? toProject(result.rows[0]) : undefined;
  }

  async list(): Promise<ProjectRecord[]> {
    const result = await this.sql.query(`SELECT ${COLUMNS} FROM projects ORDER BY name`);
    return result.rows.map(toProject);
  }

  async update(name: string, patch: Partial<ProjectInput>): Promise<ProjectRecord | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [name];
    for (const [key, column] of Object.entries(FIELDS) as [keyof ProjectInput, string][]) {
      if (!(key in patch)) continue;
      const value = patch[key];
      params.push(key === 'signaturePolicy' ? JSON.stringify(value ?? { mode: 'none' }) : value);
      sets.push(
        key === 'signaturePolicy' ? `${column} = ($${params.length}::text)::jsonb` : `${column} = $${params.length}`,
      );
    }
    if (sets.length === 0) return this.get(name);
    try {
      const result = await this.sql.query(
        `UPDATE projects SET ${sets.join(', ')}, updated_at = now() WHERE name = $1 RETURNING ${COLUMNS}`,
        params,
      );
      return result.rows.length === 1 ? toProject(result.rows[0]) : undefined;
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new StoreError('CONFLICT', `project '${String(patch.name)}' already exists`);
      throw error;
    }
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.sql.query('DELETE FROM projects WHERE name = $1', [name]);
    return result.rowCount > 0;
  }
}

function toProject(row: Record<string, unknown>): ProjectRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    repository: String(row.repository),
    allowedRefs: (row.allowed_refs as string[]) ?? [],
    recipePath: String(row.recipe_path),
    imageName: row.image_name === null ? null : String(row.image_name),
    webhookProvider: row.webhook_provider === null ? null : String(row.webhook_provider),
    webhookSecretSealed: row.webhook_secret_sealed === null ? null : String(row.webhook_secret_sealed),
    signaturePolicy: row.signature_policy,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}
