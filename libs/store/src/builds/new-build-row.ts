import { randomUUID } from 'node:crypto';

import type { CreateBuildInput } from './build.type';

/** A queued build about to be inserted, named after its columns (its JSON is the batch row). */
export interface NewBuildRow {
  id: string;
  repository: string;
  commit_sha: string;
  ref: string | null;
  recipe_path: string;
  image_name: string | null;
  created_by: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  project_id: string | null;
  signature_policy: unknown;
}

/** Gives the build its id and names its columns. */
export function newBuildRow(input: CreateBuildInput): NewBuildRow {
  return {
    id: randomUUID(),
    repository: input.repository,
    commit_sha: input.commit,
    ref: input.ref ?? null,
    recipe_path: input.recipePath,
    image_name: input.imageName ?? null,
    created_by: input.createdBy ?? null,
    idempotency_key: input.idempotencyKey ?? null,
    request_hash: input.requestHash ?? null,
    project_id: input.projectId ?? null,
    signature_policy: input.signaturePolicy ?? null,
  };
}

/** The columns a new build sets, in the order of {@link NEW_BUILD_VALUES}. */
export const NEW_BUILD_COLUMNS = `id, status, repository, commit_sha, ref, recipe_path, image_name, created_by,
  idempotency_key, request_hash, project_id, signature_policy`;

/** Their values taken from a row of {@link newBuildRecordset} named `x`. */
export const NEW_BUILD_VALUES = `x.id, 'queued', x.repository, x.commit_sha, x.ref, x.recipe_path, x.image_name,
  x.created_by, x.idempotency_key, x.request_hash, x.project_id, x.signature_policy`;

/**
 * A FROM item `x` reading the JSON array of {@link NewBuildRow}s in parameter `param`, with `extra`
 * column definitions for callers that send more fields. One parameter carries any number of rows, so
 * a batch is one statement whatever its size.
 */
export function newBuildRecordset(param: string, extra = ''): string {
  return `json_to_recordset(${param}::json) AS x(id uuid, repository text, commit_sha text, ref text,
    recipe_path text, image_name text, created_by uuid, idempotency_key text, request_hash text,
    project_id uuid, signature_policy jsonb${extra ? `, ${extra}` : ''})`;
}
