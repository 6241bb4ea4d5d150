import { hasControlCharacter } from '@secure-build/common';

import { RegistryError } from './registry-error';

/** An image reference split per the distribution grammar; the registry host is always explicit. */
export interface ImageReference {
  /** `host[:port]`, as given (no scheme, no credentials). */
  registry: string;
  /** Lowercase path components joined by '/', e.g. `org/app`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 lowercase hex>`. */
  digest?: string;
}

/** Options of {@link parseImageReference}. */
export interface ParseImageReferenceOptions {
  /** Refuse references that are not pinned by digest. */
  requireDigest?: boolean;
  /** Accept a `:tag` (default true); false refuses any tag, even next to a digest. */
  allowTag?: boolean;
}

// distribution/reference: the whole name (host + path) is at most 255 characters.
const MAX_NAME_LENGTH = 255;
const DOMAIN_COMPONENT = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const PORT = /^[0-9]{1,5}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Parses `host[:port]/path[:tag][@sha256:<hex>]` strictly: no implicit Docker Hub, no scheme, no
 * credentials, no whitespace; throws REFERENCE_INVALID naming what is wrong (credentials are never
 * echoed back).
 */
export function parseImageReference(text: string, options: ParseImageReferenceOptions = {}): ImageReference {
  if (typeof text !== 'string' || text === '') throw invalid('an image reference is required: host/repository');
  const fail = (problem: string): RegistryError => invalid(`image reference ${describe(text)} ${problem}`);
  if (hasControlCharacter(text) || /\s/u.test(text)) throw fail('contains whitespace or control characters');
  if (text.includes('://')) throw fail('must not include a URL scheme: give host/repository without https://');
  if (text.startsWith('-')) throw fail("must not start with '-'");
  if (!atIsDigestSeparator(text)) {
    throw fail(
      text.split('@').length > 2 ? "contains more than one '@'" : 'must not contain credentials (user:password@host)',
    );
  }
  const slash = text.indexOf('/');
  if (slash === -1) throw fail('must name a registry host and a repository (host/repository)');
  const registry = checkRegistry(text.slice(0, slash), fail);

  let rest = text.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(digest, fail);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw fail('has an invalid tag: 1–128 characters of [A-Za-z0-9_.-], not starting with . or -');
    }
  }
  checkRepository(rest, fail);
  if (registry.length + 1 + rest.length > MAX_NAME_LENGTH) throw fail(`has a name longer than ${MAX_NAME_LENGTH}`);
  if (tag !== undefined && options.allowTag === false) throw fail('must not carry a tag: pin it by @sha256:<hex>');
  if (digest === undefined && options.requireDigest === true) {
    throw fail('is not pinned by digest: append @sha256:<64 lowercase hex>');
  }
  return {
    registry,
    repository: rest,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Formats `host/repo[:tag][@digest]`; throws REFERENCE_INVALID when a part is malformed. */
export function formatImageReference(ref: ImageReference): string {
  const text = `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${
    ref.digest === undefined ? '' : `@${ref.digest}`
  }`;
  const parsed = parseImageReference(text);
  if (parsed.registry !== ref.registry || parsed.repository !== ref.repository) {
    throw invalid(`image reference parts do not form a valid reference: ${describe(text)}`);
  }
  return text;
}

/** Checks a `host[:port]` registry name (explicit host, port 1–65535); throws REFERENCE_INVALID. */
export function assertRegistryHost(registry: string): string {
  return checkRegistry(registry, (problem) => invalid(`registry ${describe(registry)} ${problem}`));
}

/** Checks a repository name against the distribution grammar; throws REFERENCE_INVALID. */
export function assertRepository(repository: string): string {
  checkRepository(repository, (problem) => invalid(`repository ${describe(repository)} ${problem}`));
  return repository;
}

/** Checks a `sha256:<64 lowercase hex>` digest; throws REFERENCE_INVALID. */
export function assertDigest(digest: string): string {
  checkDigest(digest, (problem) => invalid(`digest ${describe(digest)} ${problem}`));
  return digest;
}

/** Checks a tag against the distribution grammar; throws REFERENCE_INVALID. */
export function assertTag(tag: string): string {
  if (typeof tag !== 'string' || !TAG.test(tag)) {
    throw invalid(`tag ${describe(tag)} is invalid: 1–128 characters of [A-Za-z0-9_.-], not starting with . or -`);
  }
  return tag;
}

/** True for a well-formed tag. */
export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** True for a `sha256:<64 lowercase hex>` digest. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

function checkRegistry(host: string, fail: (problem: string) => RegistryError): string {
  if (typeof host !== 'string' || host === '') throw fail('has an empty registry host');
  if (hasControlCharacter(host) || /\s/u.test(host)) throw fail('contains whitespace or control characters');
  if (host.includes('@')) throw fail('must not contain credentials (user:password@host)');
  if (host.startsWith('[')) throw fail('uses an IPv6 literal host, which is not supported');
  const colon = host.indexOf(':');
  const name = colon === -1 ? host : host.slice(0, colon);
  if (colon !== -1) {
    const port = host.slice(colon + 1);
    if (!PORT.test(port)) throw fail('has an invalid registry port (1–5 digits expected)');
    const value = Number(port);
    if (value < 1 || value > 65535) throw fail(`has registry port ${value} out of range 1–65535`);
  }
  if (!name.split('.').every((part) => DOMAIN_COMPONENT.test(part))) {
    throw fail(`has an invalid registry host ${JSON.stringify(name)}`);
  }
  if (!name.includes('.') && colon === -1 && name !== 'localhost') {
    throw fail(`has no explicit registry host (${JSON.stringify(name)} has no '.' or ':' and is not localhost)`);
  }
  return host;
}

function checkRepository(repository: string, fail: (problem: string) => RegistryError): void {
  if (typeof repository !== 'string' || repository === '') throw fail('has an empty repository');
  if (repository.length > MAX_NAME_LENGTH) throw fail(`has a repository longer than ${MAX_NAME_LENGTH}`);
  const components = repository.split('/');
  for (const component of components) {
    if (component === '') throw fail("has an empty repository component (leading, trailing or double '/')");
    if (/[A-Z]/.test(component))
      throw fail(`has uppercase letters in repository component ${JSON.stringify(component)}`);
    if (!PATH_COMPONENT.test(component)) {
      throw fail(
        `has an invalid repository component ${JSON.stringify(component)}: [a-z0-9] separated by '.', '_', '__' or '-'`,
      );
    }
  }
}

function checkDigest(digest: string, fail: (problem: string) => RegistryError): void {
  if (typeof digest !== 'string' || !digest.startsWith('sha256:')) throw fail('has a digest that is not sha256:<hex>');
  if (!DIGEST.test(digest)) throw fail('has a malformed digest: sha256: followed by 64 lowercase hex characters');
}

/**
 * True unless the text has an '@' that is not the single `…/repository@algorithm:encoded` separator,
 * i.e. anything that could be `user:password@host`.
 */
function atIsDigestSeparator(text: string): boolean {
  const at = text.indexOf('@');
  if (at === -1) return true;
  const prefix = text.slice(0, at);
  const suffix = text.slice(at + 1);
  return prefix.includes('/') && !/[/@]/.test(suffix) && /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:/.test(suffix);
}

/** Quotes a user-supplied string for a message; anything before a suspicious '@' is redacted. */
function describe(text: string): string {
  if (typeof text !== 'string') return String(text);
  const safe =
    !text.includes('@') || (atIsDigestSeparator(text) && text.slice(text.indexOf('@') + 1).startsWith('sha256:'));
  const shown = safe ? text : `<redacted>@${text.slice(text.lastIndexOf('@') + 1)}`;
  return JSON.stringify(shown.length > 300 ? `${shown.slice(0, 300)}…` : shown);
}

function invalid(message: string): RegistryError {
  return new RegistryError('REFERENCE_INVALID', message);
}
