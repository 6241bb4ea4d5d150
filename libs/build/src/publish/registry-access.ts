import { RegistryClient, RegistryCredentials } from '@secure-build/registry';

import { BuildError } from '../pipeline/build-error';

/** How a worker or the CLI reaches registries: credentials per host and hosts spoken to over http. */
export interface RegistryAccessOptions {
  /** Credentials by `host[:port]`; they are sent only to that host and never logged. */
  credentials?: Readonly<Record<string, RegistryCredentials>>;
  /** Registries reached over plain http (loopback test registries); everything else is https. */
  plainHttpRegistries?: readonly string[];
  /** Every registry over plain http (the CLI's --plain-http, for a local test registry). */
  plainHttpAll?: boolean;
  /** Progress lines from the registry client (never secrets). */
  onLog?: (line: string) => void;
  /** Blobs above this size are uploaded in chunks (default: the client's). */
  chunkSizeBytes?: number;
}

/** One registry client per host, configured from {@link RegistryAccessOptions}. */
export class RegistryAccess {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly options: RegistryAccessOptions = {}) {}

  /** The client for `registry` (`host[:port]`), created on first use. */
  client(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (client === undefined) {
      client = new RegistryClient({
        registry,
        plainHttp:
          this.options.plainHttpAll === true || (this.options.plainHttpRegistries?.includes(registry) ?? false),
        credentials: this.options.credentials?.[registry],
        onLog: this.options.onLog,
        ...(this.options.chunkSizeBytes ? { chunkSizeBytes: this.options.chunkSizeBytes } : {}),
      });
      this.clients.set(registry, client);
    }
    return client;
  }
}

/**
 * Reads credentials from a Docker/Podman `config.json` (`{"auths": {"host": {"auth": base64(user:pw)}}}`,
 * or `username`/`password` fields), the format Kubernetes image-pull secrets use too.
 */
export function parseRegistryAuthFile(text: string, origin: string): Record<string, RegistryCredentials> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BuildError('INVALID_OPTIONS', `${origin}: not JSON (${(error as Error).message})`);
  }
  const auths = (parsed as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw new BuildError('INVALID_OPTIONS', `${origin}: expected {"auths": {"<host>": {...}}}`);
  }
  const credentials: Record<string, RegistryCredentials> = {};
  for (const [host, entry] of Object.entries(auths as Record<string, unknown>)) {
    const registry = host.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const { auth, username, password } = (entry ?? {}) as { auth?: unknown; username?: unknown; password?: unknown };
    if (typeof username === 'string' && typeof password === 'string') {
      credentials[registry] = { username, password };
    } else if (typeof auth === 'string') {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0)
        throw new BuildError('INVALID_OPTIONS', `${origin}: auths["${host}"].auth is not base64(user:password)`);
      credentials[registry] = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    } else {
      throw new BuildError('INVALID_OPTIONS', `${origin}: auths["${host}"] has neither auth nor username/password`);
    }
  }
  return credentials;
}
