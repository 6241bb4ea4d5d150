import { isAbsolute, posix, resolve } from 'node:path';

import { SourceError } from './source.error';
import { hasControlCharacter, replaceControlCharacters } from '@secure-build/common';

/** A repository location that passed validation and is safe to hand to `git remote add -- <url>`. */
export interface RepositoryUrl {
  /** Transport git will use; `http` and `file` only appear when local repositories are allowed. */
  kind: 'https' | 'http' | 'ssh' | 'file';
  /** Normalized, credential-free form passed to git. */
  url: string;
  /** Form for logs, provenance and error messages (never contains credentials). */
  display: string;
}

/** Options for {@link parseRepositoryUrl}. */
export interface ParseRepositoryUrlOptions {
  /** Allow `file://`, local paths and plain `http://` to 127.0.0.1/localhost (development and tests only). */
  allowLocal: boolean;
  /** Base directory for relative local paths; defaults to the process working directory. */
  cwd?: string;
}

const LOCAL_HINT = 'local repositories are refused unless allowLocal is set (development and tests only)';
const REMOTE_HELPER = /^[A-Za-z0-9+.-]*::/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const SSH_USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
/** RFC 3986 path characters (percent escapes checked separately); no `?`, `#`, quotes or backslashes. */
const PATH_CHARS = /^[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const LOCAL_PATH_CHARS = /^[A-Za-z0-9._~+,=@/-]+$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SCP_RESERVED_HOSTS = new Set(['file', 'http', 'https', 'ssh', 'git']);

/**
 * Validates a repository location and normalizes it for git. Accepts `https://host[:port]/path`,
 * `ssh://[user@]host[:port]/path` and scp-like `[user@]host:path`; with `allowLocal`, also
 * `file:///abs/path`, local paths (resolved to absolute `file://` URLs) and `http://` to loopback.
 * Refuses remote-helper syntax (`ext::`, `fd::`, any `<transport>::`), `git://` (unauthenticated),
 * other schemes, embedded credentials, whitespace, control characters, query strings, dot segments
 * and anything git or ssh could read as an option (a leading `-` on the URL, host, user or path).
 */
export function parseRepositoryUrl(input: string, opts: ParseRepositoryUrlOptions): RepositoryUrl {
  if (typeof input !== 'string' || input.length === 0) throw invalid('repository URL is empty');
  if (hasControlCharacter(input)) throw invalid('repository URL contains control characters or newlines');
  if (REMOTE_HELPER.test(input)) {
    throw invalid(`remote-helper syntax "<transport>::" is not allowed (${redact(input)})`);
  }
  if (/\s/.test(input)) throw invalid(`repository URL contains whitespace (${redact(input)})`);
  if (input.startsWith('-')) throw invalid('repository URL starts with "-" and could be read as an option');
  if (input.includes('\\')) throw invalid(`repository URL contains a backslash (${redact(input)})`);

  const scheme = SCHEME.exec(input)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    const rest = input.slice(input.indexOf('://') + 3);
    switch (scheme) {
      case 'https':
      case 'http':
        return parseHttp(scheme, rest, input, opts);
      case 'ssh':
        return parseSsh(rest, input);
      case 'file':
        return parseFileUrl(rest, input, opts);
      case 'git':
        throw invalid('git:// is unauthenticated and not allowed: use https:// or ssh://');
      default:
        throw invalid(`unsupported URL scheme "${scheme}://": use https:// or ssh://`);
    }
  }
  const colon = input.indexOf(':');
  const slash = input.indexOf('/');
  if (colon >= 0 && (slash < 0 || colon < slash)) return parseScpLike(input);
  return parseLocalPath(input, opts);
}

/**
 * Resolves a `.gitmodules` URL against the superproject's URL the way git does (`./x` and `../x`
 * are relative to the superproject URL), then validates the result with the same rules.
 */
export function resolveSubmoduleUrl(
  raw: string,
  superproject: RepositoryUrl,
  opts: ParseRepositoryUrlOptions,
): RepositoryUrl {
  if (!raw.startsWith('./') && !raw.startsWith('../')) return parseRepositoryUrl(raw, opts);
  const base = superproject.url.replace(/\/+$/, '');
  let prefix: string;
  let path: string;
  const scheme = SCHEME.exec(base);
  if (scheme) {
    const afterScheme = scheme[0].length;
    const pathStart = base.indexOf('/', afterScheme);
    prefix = pathStart < 0 ? base : base.slice(0, pathStart);
    path = pathStart < 0 ? '' : base.slice(pathStart);
  } else {
    const colon = base.indexOf(':');
    prefix = base.slice(0, colon + 1);
    path = base.slice(colon + 1);
  }
  const segments = path === '' ? [] : path.split('/');
  const minimum = path.startsWith('/') ? 1 : 0;
  let rest = raw;
  for (;;) {
    if (rest.startsWith('./')) {
      rest = rest.slice(2);
    } else if (rest.startsWith('../')) {
      if (segments.length <= minimum) {
        throw invalid(`relative submodule URL "${redact(raw)}" climbs above the root of ${superproject.display}`);
      }
      segments.pop();
      rest = rest.slice(3);
    } else {
      break;
    }
  }
  if (rest === '') throw invalid(`relative submodule URL "${redact(raw)}" names no repository`);
  return parseRepositoryUrl(prefix + [...segments, rest].join('/'), opts);
}

/** Replaces anything that could be a credential (userinfo before `@`) and control characters. */
export function redactUrl(input: string): string {
  return redact(input);
}

function redact(input: string): string {
  const cleaned = replaceControlCharacters(
    input.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/]*@/, '$1***@').replace(/^[^/:]*@([^/]*:)/, '***@$1'),
    '?',
  );
  return cleaned.length > 200 ? `${cleaned.slice(0, 200)}…` : cleaned;
}

function invalid(message: string): SourceError {
  return new SourceError('INVALID_URL', message);
}

function splitAuthority(rest: string): { authority: string; path: string } {
  const end = rest.search(/[/?#]/);
  return end < 0 ? { authority: rest, path: '' } : { authority: rest.slice(0, end), path: rest.slice(end) };
}

function checkHostPort(hostPort: string, input: string): { host: string; port?: number } {
  if (hostPort.startsWith('-')) throw invalid('repository host starts with "-" and could be read as an option');
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(hostPort);
  if (!m || !HOST.test(m[1])) throw invalid(`invalid repository host in ${redact(input)}`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw invalid(`invalid port in ${redact(input)}`);
  return { host: m[1].toLowerCase(), port };
}

function checkPath(path: string, input: string, { absolute }: { absolute: boolean }): void {
  if (path.includes('?') || path.includes('#')) {
    throw invalid(`query strings and fragments are not allowed in repository URLs (${redact(input)})`);
  }
  if (absolute ? path.length < 2 || !path.startsWith('/') : path.length === 0) {
    throw invalid(`repository URL has no path (${redact(input)})`);
  }
  if (path.startsWith('-')) throw invalid('repository path starts with "-" and could be read as an option');
  if (!PATH_CHARS.test(path)) throw invalid(`repository path contains disallowed characters (${redact(input)})`);
  if (/%(?![0-9A-Fa-f]{2})|%[01][0-9A-Fa-f]|%7f/i.test(path)) {
    throw invalid(`repository path contains an invalid or control-character percent escape (${redact(input)})`);
  }
  if (path.split('/').some((s) => s === '.' || s === '..')) {
    throw invalid(`repository path contains "." or ".." segments (${redact(input)})`);
  }
}

function parseHttp(
  scheme: 'https' | 'http',
  rest: string,
  input: string,
  opts: ParseRepositoryUrlOptions,
): RepositoryUrl {
  const { authority, path } = splitAuthority(rest);
  if (authority.includes('@')) {
    throw invalid(
      `repository URL embeds credentials (${redact(input)}): remove them and configure authentication separately`,
    );
  }
  const { host, port } = checkHostPort(authority, input);
  if (scheme === 'http') {
    if (!LOOPBACK_HOSTS.has(host)) {
      throw invalid('plain http:// is not allowed (unauthenticated transport): use https://');
    }
    if (!opts.allowLocal) {
      throw new SourceError('LOCAL_REPO_NOT_ALLOWED', `http:// to a loopback host: ${LOCAL_HINT}`);
    }
  }
  checkPath(path, input, { absolute: true });
  const defaultPort = scheme === 'https' ? 443 : 80;
  const url = `${scheme}://${host}${port === undefined || port === defaultPort ? '' : `:${port}`}${path}`;
  return { kind: scheme, url, display: url };
}

function parseSsh(rest: string, input: string): RepositoryUrl {
  const { authority, path } = splitAuthority(rest);
  const at = authority.lastIndexOf('@');
  const user = at < 0 ? undefined : authority.slice(0, at);
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  if (user !== undefined) checkSshUser(user, input);
  const { host, port } = checkHostPort(hostPort, input);
  checkPath(path, input, { absolute: true });
  const url = `ssh://${user === undefined ? '' : `${user}@`}${host}${port === undefined ? '' : `:${port}`}${path}`;
  return { kind: 'ssh', url, display: url };
}

function checkSshUser(user: string, input: string): void {
  if (user.includes(':')) {
    throw invalid(`repository URL embeds a password (${redact(input)}): use an ssh key instead`);
  }
  if (user.startsWith('-')) throw invalid('ssh user starts with "-" and could be read as an option');
  if (!SSH_USER.test(user)) throw invalid(`invalid ssh user name in ${redact(input)}`);
}

function parseScpLike(input: string): RepositoryUrl {
  const colon = input.indexOf(':');
  const authority = input.slice(0, colon);
  const path = input.slice(colon + 1);
  const at = authority.lastIndexOf('@');
  const user = at < 0 ? undefined : authority.slice(0, at);
  const host = at < 0 ? authority : authority.slice(at + 1);
  if (user !== undefined) checkSshUser(user, input);
  if (host.startsWith('-')) throw invalid('repository host starts with "-" and could be read as an option');
  if (!HOST.test(host)) throw invalid(`invalid repository host in ${redact(input)}`);
  if (SCP_RESERVED_HOSTS.has(host.toLowerCase())) {
    throw invalid(`malformed URL ${redact(input)}: a scheme needs "://"`);
  }
  checkPath(path, input, { absolute: false });
  const url = `${user === undefined ? '' : `${user}@`}${host.toLowerCase()}:${path}`;
  return { kind: 'ssh', url, display: url };
}

function parseFileUrl(rest: string, input: string, opts: ParseRepositoryUrlOptions): RepositoryUrl {
  if (!opts.allowLocal) throw new SourceError('LOCAL_REPO_NOT_ALLOWED', `file:// repository: ${LOCAL_HINT}`);
  const path = rest.startsWith('localhost/') ? rest.slice('localhost'.length) : rest;
  if (!path.startsWith('/')) throw invalid(`file:// URLs must name an absolute local path (${redact(input)})`);
  return localRepository(path, input);
}

function parseLocalPath(input: string, opts: ParseRepositoryUrlOptions): RepositoryUrl {
  if (!opts.allowLocal) throw new SourceError('LOCAL_REPO_NOT_ALLOWED', `local path repository: ${LOCAL_HINT}`);
  return localRepository(isAbsolute(input) ? input : resolve(opts.cwd ?? process.cwd(), input), input);
}

function localRepository(path: string, input: string): RepositoryUrl {
  const normalized = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (!LOCAL_PATH_CHARS.test(normalized) || normalized === '/') {
    throw invalid(`local repository path contains disallowed characters (${redact(input)})`);
  }
  const url = `file://${normalized}`;
  return { kind: 'file', url, display: url };
}
