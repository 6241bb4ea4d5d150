import { hasControlCharacter } from '@secure-build/common';

import type { PushEvent } from './delivery.types';
import { webhookError } from './webhook-error';

/** A repository URL split into the parts that identify a repository. */
interface RepositoryLocation {
  scheme: 'https' | 'http' | 'ssh' | 'git';
  /** ssh login (kept: `git@` is part of the address); https credentials are dropped. */
  user?: string;
  /** Lower-case host name or bracketed IPv6 address. */
  host: string;
  /** Port, only when it is not the scheme's default. */
  port?: number;
  /** `/owner/name`, without trailing `/` or `.git`. */
  path: string;
}

const MAX_URL_LENGTH = 2048;
const SCHEME_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/;
const SCP_LIKE = /^(?:([^@/]+)@)?(\[[0-9A-Fa-f:.]+\]|[^/:@[\]]+):(.*)$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const HOST_PORT = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/;
const SSH_USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
const PATH_SEGMENT = /^(?!\.\.?$)[A-Za-z0-9._~+@][A-Za-z0-9._~+@-]*$/;
/** Scheme names that git never reads as an scp-like host (`https:/x` is a typo, not host "https"). */
const RESERVED_SCP_HOSTS = new Set(['file', 'git', 'http', 'https', 'ssh']);
const DEFAULT_PORTS: Record<RepositoryLocation['scheme'], number> = { https: 443, http: 80, ssh: 22, git: 9418 };
/** Hosts whose owner/repo paths are case-insensitive, so paths are lower-cased for them. */
const CASE_INSENSITIVE_HOSTS = new Set(['github.com']);

/**
 * Canonical form of a repository URL, for comparing a payload's repository with a configured
 * project. Lower-cases scheme and host, drops https credentials (an ssh user is kept), default ports
 * (443 https, 80 http, 22 ssh), trailing `/` and `.git`, and rewrites scp-like `git@host:org/repo`
 * to `ssh://git@host/org/repo`. Paths stay case-sensitive, except on github.com where owner and
 * repository names are case-insensitive and the path is lower-cased. Query strings, fragments,
 * percent escapes, dot segments and unknown schemes are refused (PAYLOAD_INVALID, field `url`).
 */
export function normalizeRepositoryUrl(url: string): string {
  const { scheme, user, host, port, path } = parseLocation(url);
  const userPart = scheme === 'ssh' && user !== undefined ? `${user}@` : '';
  return `${scheme}://${userPart}${host}${port === undefined ? '' : `:${port}`}${path}`;
}

/**
 * True when one of the payload's repository URLs names the same repository as the configured
 * `projectRepository`: same host, port (when not the default) and normalized path, whatever the
 * scheme or ssh user, so `https://host/org/repo` matches `git@host:org/repo.git`. Anything that
 * fails to parse does not match. The build always clones the project's URL, never the payload's.
 */
export function repositoryMatches(projectRepository: string, push: PushEvent): boolean {
  const project = tryKey(projectRepository);
  if (project === undefined) return false;
  const urls: unknown = push?.repository?.cloneUrls;
  if (!Array.isArray(urls)) return false;
  return urls.some((url) => typeof url === 'string' && tryKey(url) === project);
}

function tryKey(url: string): string | undefined {
  try {
    const { host, port, path } = parseLocation(url);
    return `${host}${port === undefined ? '' : `:${port}`}${path}`;
  } catch {
    return undefined;
  }
}

function refuse(why: string): never {
  throw webhookError('PAYLOAD_INVALID', `repository URL cannot be normalized: ${why}`, 'url');
}

function parseLocation(url: string): RepositoryLocation {
  if (typeof url !== 'string' || url.length === 0) refuse('it is empty');
  if (url.length > MAX_URL_LENGTH) refuse(`it is longer than ${MAX_URL_LENGTH} characters`);
  if (hasControlCharacter(url) || /[\s\\]/.test(url)) refuse('it contains whitespace, control characters or "\\"');
  if (url.includes('?') || url.includes('#')) refuse('query strings and fragments are not allowed');

  const withScheme = SCHEME_URL.exec(url);
  if (withScheme) {
    const scheme = withScheme[1].toLowerCase();
    if (!Object.hasOwn(DEFAULT_PORTS, scheme)) refuse(`unsupported scheme "${scheme.slice(0, 20)}"`);
    return fromAuthority(scheme as RepositoryLocation['scheme'], withScheme[2], withScheme[3] ?? '');
  }
  if (url.includes('://')) refuse('malformed scheme');
  const scpLike = SCP_LIKE.exec(url);
  if (!scpLike) refuse('expected scheme://host/path or scp-like user@host:path');
  const [, user, host, path] = scpLike;
  if (RESERVED_SCP_HOSTS.has(host.toLowerCase())) refuse('a scheme needs "://"');
  return {
    scheme: 'ssh',
    ...sshUser(user),
    host: checkHost(host),
    path: normalizePath(path.startsWith('/') ? path : `/${path}`, host),
  };
}

function fromAuthority(scheme: RepositoryLocation['scheme'], authority: string, path: string): RepositoryLocation {
  const at = authority.lastIndexOf('@');
  const userInfo = at < 0 ? undefined : authority.slice(0, at);
  const m = HOST_PORT.exec(at < 0 ? authority : authority.slice(at + 1));
  if (!m) refuse('invalid host or port');
  const host = checkHost(m[1]);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) refuse('port out of range');
  // Only the ssh login identifies anything; https user/password are credentials and are dropped.
  const user = scheme === 'ssh' ? sshUser(userInfo?.split(':')[0]) : {};
  return {
    scheme,
    ...user,
    host,
    ...(port === undefined || port === DEFAULT_PORTS[scheme] ? {} : { port }),
    path: normalizePath(path, host),
  };
}

function sshUser(user: string | undefined): { user?: string } {
  if (user === undefined) return {};
  if (!SSH_USER.test(user)) refuse('invalid ssh user');
  return { user };
}

function checkHost(host: string): string {
  if (!HOST.test(host)) refuse('invalid host');
  return host.toLowerCase();
}

function normalizePath(raw: string, host: string): string {
  let path = raw.replace(/\/+$/, '');
  if (path.endsWith('.git')) path = path.slice(0, -'.git'.length);
  const segments = path.split('/').slice(1);
  if (!path.startsWith('/') || segments.length === 0) refuse('no repository path');
  if (!segments.every((s) => PATH_SEGMENT.test(s))) {
    refuse('path has an empty, dot, option-like or percent-encoded segment, or a disallowed character');
  }
  return CASE_INSENSITIVE_HOSTS.has(host.toLowerCase()) ? path.toLowerCase() : path;
}
