import { randomBytes, randomUUID } from 'node:crypto';

import { sha256Hex } from '@secure-build/common';

import type { SqlClient } from '../sql/sql-client';
import { isUuid, toDate, toDateOrNull, toNumber } from '../sql/sql-value.util';
import { StoreError } from '../store.error';
import { isScope, type Scope } from './scope';

/** Prefix of generated tokens, so leaked tokens are recognisable by secret scanners. */
export const TOKEN_PREFIX = 'sbt_';

/** The identity an authenticated token grants. */
export interface TokenPrincipal {
  id: string;
  name: string;
  scopes: Scope[];
}

/** A token as listed to administrators (never the secret nor its hash). */
export interface TokenRecord extends TokenPrincipal {
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** API tokens, stored only as SHA-256 hex of the secret. */
export interface TokenRepository {
  /** Generates a token ('sbt_' + 32 random bytes base64url); the secret is returned once and never stored. */
  create(input: { name: string; scopes: Scope[] }): Promise<{ id: string; token: string }>;
  /**
   * Registers a configured (bootstrap) token. Idempotent on the token hash: an existing row, even a
   * revoked one, is kept as it is (created=false), so a revocation survives restarts.
   */
  createWithToken(input: { name: string; scopes: Scope[]; token: string }): Promise<{ id: string; created: boolean }>;
  /** The principal of an unrevoked token, or undefined; records last use (at most once a minute). */
  authenticate(token: string): Promise<TokenPrincipal | undefined>;
  /** Revokes a token; false when unknown or already revoked. */
  revoke(id: string): Promise<boolean>;
  /** Every token, oldest first, without secrets. */
  list(): Promise<TokenRecord[]>;
  /** Number of unrevoked tokens carrying `scope` (e.g. to refuse revoking the last admin). */
  countActiveWithScope(scope: Scope): Promise<number>;
}

/** SqlClient-backed TokenRepository. */
export class SqlTokenRepository implements TokenRepository {
  constructor(private readonly sql: SqlClient) {}

  async create(input: { name: string; scopes: Scope[] }): Promise<{ id: string; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const { id } = await this.createWithToken({ ...input, token });
    return { id, token };
  }

  async createWithToken(input: {
    name: string;
    scopes: Scope[];
    token: string;
  }): Promise<{ id: string; created: boolean }> {
    const scopes = checkScopes(input.scopes);
    if (input.token.length === 0) throw new StoreError('INVALID_TOKEN', 'token must not be empty');
    const hash = sha256Hex(input.token);
    const inserted = await this.sql.query<{ id: string }>(
      `INSERT INTO api_tokens (id, name, token_sha256, scopes) VALUES ($1, $2, $3, $4::text[])
       ON CONFLICT (token_sha256) DO NOTHING
       RETURNING id`,
      [randomUUID(), input.name, hash, scopes],
    );
    if (inserted.rows[0]) return { id: inserted.rows[0].id, created: true };
    const existing = await this.sql.query<{ id: string }>('SELECT id FROM api_tokens WHERE token_sha256 = $1', [hash]);
    if (!existing.rows[0]) throw new Error('token row vanished after a conflicting insert');
    return { id: existing.rows[0].id, created: false };
  }

  async authenticate(token: string): Promise<TokenPrincipal | undefined> {
    if (token.length === 0) return undefined;
    const result = await this.sql.query<{ id: string; name: string; scopes: string[]; stale: boolean }>(
      `SELECT id, name, scopes, (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
       FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL`,
      [sha256Hex(token)],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    if (row.stale) await this.sql.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [row.id]);
    return { id: row.id, name: row.name, scopes: row.scopes.filter(isScope) };
  }

  async revoke(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const result = await this.sql.query(
      'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
      [id],
    );
    return result.rowCount > 0;
  }

  async list(): Promise<TokenRecord[]> {
    const result = await this.sql.query<Record<string, unknown>>(
      'SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at, id',
    );
    return result.rows.map((row) => ({
      id: String(row.id),
      name: String(row.name),
      scopes: (row.scopes as string[]).filter(isScope),
      createdAt: toDate(row.created_at),
      lastUsedAt: toDateOrNull(row.last_used_at),
      revokedAt: toDateOrNull(row.revoked_at),
    }));
  }

  async countActiveWithScope(scope: Scope): Promise<number> {
    const result = await this.sql.query<{ count: unknown }>(
      'SELECT count(*) AS count FROM api_tokens WHERE revoked_at IS NULL AND $1::text = ANY (scopes)',
      [scope],
    );
    return toNumber(result.rows[0]?.count ?? 0);
  }
}

function checkScopes(scopes: readonly unknown[]): Scope[] {
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) {
    throw new StoreError('INVALID_SCOPE', 'unknown token scope', { details: { scopes: unknown.map(String) } });
  }
  return [...new Set(scopes as Scope[])];
}
