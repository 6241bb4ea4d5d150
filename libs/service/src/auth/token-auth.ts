import { ALL_SCOPES, Scope, Store } from '@secure-build/store';

import { ServiceError } from '../service.error';
import { TokenBucketLimiter } from './rate-limiter';

/** Who is calling: a token's id, name and scopes. */
export interface Principal {
  tokenId: string;
  name: string;
  scopes: Scope[];
}

const CACHE_TTL_MS = 2_000;

/**
 * Bearer-token authentication, scope checks and per-token rate limits. Tokens are looked up by
 * their SHA-256 (the store never holds plaintext); a short cache keeps the hot path off the database.
 */
export class TokenAuth {
  private readonly cache = new Map<string, { principal: Principal | undefined; expires: number }>();

  constructor(
    private readonly store: Store,
    private readonly limiter: TokenBucketLimiter,
  ) {}

  /** Resolves an Authorization header to a principal, enforcing scope and rate limit. */
  async authorize(authorization: string | undefined, required: Scope): Promise<Principal> {
    if (!authorization) {
      throw new ServiceError('UNAUTHENTICATED', 'missing bearer token: send Authorization: Bearer <token>');
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (!token) {
      throw new ServiceError('UNAUTHENTICATED', 'malformed Authorization header: expected Bearer <token>');
    }
    const principal = await this.lookup(token);
    if (!principal) throw new ServiceError('UNAUTHENTICATED', 'unknown or revoked token');
    if (!principal.scopes.includes(required) && !principal.scopes.includes('admin')) {
      throw new ServiceError('FORBIDDEN', `this token lacks the '${required}' scope`);
    }
    const wait = this.limiter.take(principal.tokenId);
    if (wait > 0) {
      throw new ServiceError(
        'RATE_LIMITED',
        `rate limit exceeded for this token; retry in ${Math.ceil(wait / 1000)} s`,
        {
          details: { retryAfterSeconds: Math.ceil(wait / 1000) },
        },
      );
    }
    return principal;
  }

  /** Creates a token (admin only at the API); returns the plaintext once. */
  async create(body: unknown): Promise<{ id: string; token: string; name: string; scopes: Scope[] }> {
    const { name, scopes } = parseTokenRequest(body);
    const created = await this.store.tokens.create({ name, scopes });
    return { ...created, name, scopes };
  }

  async revoke(id: string): Promise<void> {
    const target = (await this.store.tokens.list()).find((t) => t.id === id.toLowerCase() && !t.revokedAt);
    if (target?.scopes.includes('admin') && (await this.store.tokens.countActiveWithScope('admin')) <= 1) {
      throw new ServiceError(
        'CONFLICT',
        'refusing to revoke the last active admin token: create another admin token first',
      );
    }
    const revoked = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.tokens.revoke(id) : false;
    if (!revoked) throw new ServiceError('NOT_FOUND', `token ${id} not found or already revoked`);
    this.cache.clear();
  }

  /**
   * Makes sure an admin can log in: registers the configured bootstrap token, or, when no admin
   * token exists yet, creates one and returns it so the caller can print it once.
   */
  async bootstrapAdmin(configured?: string): Promise<string | undefined> {
    if (configured) {
      await this.store.tokens.createWithToken({ name: 'bootstrap-admin', scopes: ['admin'], token: configured });
      return undefined;
    }
    if ((await this.store.tokens.countActiveWithScope('admin')) > 0) return undefined;
    return (await this.store.tokens.create({ name: 'bootstrap-admin', scopes: ['admin'] })).token;
  }

  private async lookup(token: string): Promise<Principal | undefined> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.expires > now) return hit.principal;
    const found = await this.store.tokens.authenticate(token);
    const principal = found ? { tokenId: found.id, name: found.name, scopes: found.scopes } : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { principal, expires: now + CACHE_TTL_MS });
    return principal;
  }
}

function parseTokenRequest(body: unknown): { name: string; scopes: Scope[] } {
  const value = (body ?? {}) as { name?: unknown; scopes?: unknown };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ServiceError('VALIDATION_FAILED', 'body: must be a JSON object {name, scopes}', {
      details: { field: 'body' },
    });
  }
  const extra = Object.keys(value).filter((k) => k !== 'name' && k !== 'scopes');
  if (extra.length > 0)
    throw new ServiceError('VALIDATION_FAILED', `${extra.join(', ')}: unknown field`, { details: { field: extra[0] } });
  if (typeof value.name !== 'string' || !/^[\x20-\x7e]{1,100}$/.test(value.name)) {
    throw new ServiceError('VALIDATION_FAILED', 'name: must be 1-100 printable characters', {
      details: { field: 'name' },
    });
  }
  if (
    !Array.isArray(value.scopes) ||
    value.scopes.length === 0 ||
    !value.scopes.every((s) => ALL_SCOPES.includes(s as Scope))
  ) {
    throw new ServiceError('VALIDATION_FAILED', `scopes: must be a non-empty list of ${ALL_SCOPES.join(', ')}`, {
      details: { field: 'scopes' },
    });
  }
  return { name: value.name, scopes: [...new Set(value.scopes as Scope[])] };
}
