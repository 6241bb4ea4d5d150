import type { RegistryCredentials } from './client';
import { RegistryError } from './registry-error';
import type { AuthChallenge } from './www-authenticate';

/** What the authenticator needs from the transport to fetch a token: a GET with optional Basic auth. */
export type TokenFetcher = (url: URL, basicAuthorization: string | undefined) => Promise<unknown>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

const DEFAULT_TOKEN_LIFETIME_S = 60;
// Renew a little before the registry would, so a request never races the expiry.
const EXPIRY_MARGIN = 0.9;

/**
 * Holds the authentication state of one client: whether the registry wants Basic credentials and
 * the Bearer tokens obtained so far, cached per scope set until `expires_in`.
 */
export class Authenticator {
  private basic = false;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly secrets = new Set<string>();

  constructor(
    private readonly registry: string,
    private readonly credentials: RegistryCredentials | undefined,
    private readonly allowHttpRealm: boolean,
    private readonly now: () => number = Date.now,
  ) {
    if (credentials !== undefined) {
      this.remember(credentials.password);
      this.remember(basicValue(credentials));
      this.remember(`${credentials.username}:${credentials.password}`);
    }
  }

  /** The Authorization header to send pre-emptively for these scopes, if any. */
  authorization(scopes: readonly string[]): string | undefined {
    if (this.basic && this.credentials !== undefined) return `Basic ${basicValue(this.credentials)}`;
    const cached = this.tokens.get(scopeKey(scopes));
    if (cached !== undefined && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    return undefined;
  }

  /**
   * Reacts to a 401: prefers a Bearer challenge (fetching a token for the challenge's scope plus
   * ours), else Basic. `sent` is the Authorization header the rejected request carried.
   */
  async answer(
    challenges: readonly AuthChallenge[],
    scopes: readonly string[],
    sent: string | undefined,
    fetchToken: TokenFetcher,
  ): Promise<void> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer !== undefined) {
      this.tokens.delete(scopeKey(scopes));
      await this.fetchBearer(bearer, scopes, fetchToken);
      return;
    }
    if (basic !== undefined) {
      if (this.credentials === undefined) {
        throw failed(`${this.registry} requires credentials (Basic) and none are configured`);
      }
      if (sent?.startsWith('Basic ')) throw failed(`${this.registry} rejected the configured credentials (Basic)`);
      this.basic = true;
      return;
    }
    const schemes = challenges.map((c) => c.scheme).join(', ') || 'none';
    throw failed(`${this.registry} answered 401 without a supported challenge (schemes: ${schemes})`);
  }

  /** Replaces every credential or token that occurs in `text` (server-provided messages) with `***`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret.length >= 4) out = out.split(secret).join('***');
    return out;
  }

  private async fetchBearer(challenge: AuthChallenge, scopes: readonly string[], fetchToken: TokenFetcher) {
    const realm = this.realmUrl(challenge.params.realm);
    const requested = new Set<string>([...(challenge.params.scope ?? '').split(' ').filter(Boolean), ...scopes]);
    if (challenge.params.service !== undefined) realm.searchParams.append('service', challenge.params.service);
    for (const scope of requested) realm.searchParams.append('scope', scope);
    const basic = this.credentials === undefined ? undefined : `Basic ${basicValue(this.credentials)}`;
    const body = await fetchToken(realm, basic);
    const { token, access_token: accessToken, expires_in: expiresIn } = (body ?? {}) as Record<string, unknown>;
    const value = typeof token === 'string' && token !== '' ? token : accessToken;
    if (typeof value !== 'string' || value === '' || !/^[\x21-\x7e]+$/.test(value)) {
      throw failed(`token endpoint ${realm.host}${realm.pathname} returned no usable token`);
    }
    this.remember(value);
    const lifetime =
      typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
        ? expiresIn
        : DEFAULT_TOKEN_LIFETIME_S;
    this.tokens.set(scopeKey(scopes), { token: value, expiresAt: this.now() + lifetime * 1000 * EXPIRY_MARGIN });
  }

  private realmUrl(realm: string | undefined): URL {
    if (realm === undefined || realm === '') throw failed(`${this.registry} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw failed(`${this.registry} sent a Bearer challenge with an invalid realm URL`);
    }
    if (url.username !== '' || url.password !== '') throw failed('the token realm URL must not carry credentials');
    if (url.protocol === 'https:') return url;
    if (url.protocol === 'http:' && (this.allowHttpRealm || isLoopback(url.hostname))) return url;
    throw failed(`token realm ${url.protocol}//${url.host} must use https (credentials would travel in clear)`);
  }

  private remember(secret: string): void {
    if (secret !== '') this.secrets.add(secret);
  }
}

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

function basicValue(credentials: RegistryCredentials): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
}

function failed(message: string): RegistryError {
  return new RegistryError('REGISTRY_AUTH_FAILED', message);
}
