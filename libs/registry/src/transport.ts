import { Authenticator } from './auth';
import type { RegistryCredentials } from './client';
import {
  describeRequest,
  formatRegistryErrors,
  parseRegistryErrors,
  unexpectedStatus,
  type RegistryErrorEntry,
} from './http-errors';
import { RegistryError, type RegistryErrorCode } from './registry-error';
import { parseWwwAuthenticate } from './www-authenticate';

/** Settings of a {@link Transport}, already defaulted by the client. */
export interface TransportOptions {
  registry: string;
  plainHttp: boolean;
  credentials?: RegistryCredentials;
  fetch: typeof fetch;
  retries: number;
  retryBaseDelayMs: number;
  timeoutMs: number;
  userAgent: string;
  log: (line: string) => void;
}

/** A request body: bytes (replayable) or a one-shot stream of exactly `length` bytes. */
export type RequestBody = Buffer | { stream: AsyncIterable<Buffer>; length: number };

/** One logical request; `url` is a `/v2/…` path or an absolute URL (an upload Location). */
export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string | URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Token scopes, e.g. `repository:org/app:pull,push`; empty for `/v2/`. */
  scopes: readonly string[];
  /** Overrides the client's retry count (e.g. 0 for best-effort cleanup). */
  retries?: number;
}

/** A response after authentication and redirects; the body is read through the helpers. */
export interface RegistryResponse {
  status: number;
  headers: Headers;
  /** Final URL, after redirects. */
  url: URL;
  method: string;
  /** Reads the whole body; throws the `tooLarge()` error beyond `maxBytes`. */
  bytes(maxBytes: number, tooLarge: () => RegistryError): Promise<Buffer>;
  /** The body as chunks; each chunk counts as progress for the idle timeout. */
  chunks(): AsyncIterable<Buffer>;
  /** Discards the body (so the connection can be reused). */
  discard(): Promise<void>;
  /** The registry's error list from a (small) error body. */
  errors(): Promise<RegistryErrorEntry[]>;
  /** Error for a status the caller did not expect. */
  fail(fallback: RegistryErrorCode, expected?: string): Promise<RegistryError>;
}

const MAX_REDIRECTS = 5;
const MAX_RETRY_DELAY_MS = 30_000;
const MAX_ERROR_BODY = 64 * 1024;

/** Thrown inside an attempt when nothing moved for `timeoutMs`. */
class IdleTimeout extends Error {}

/** Wraps an error of the caller's body source so it is never mistaken for a network failure. */
class BodySourceError extends Error {
  constructor(readonly original: unknown) {
    super('request body source failed');
  }
}

/**
 * HTTP for the registry client on the built-in fetch: auth challenges (Basic and Bearer tokens),
 * manual redirects that never forward Authorization to another origin, an idle timeout, and retries
 * with exponential backoff and jitter (Retry-After honoured) for network errors, 5xx and 429.
 * Requests with a streamed body are never retried here: they fail with a retryable error and the
 * caller restarts with a fresh stream.
 */
export class Transport {
  readonly origin: string;
  private readonly auth: Authenticator;

  constructor(private readonly options: TransportOptions) {
    this.origin = `${options.plainHttp ? 'http' : 'https'}://${options.registry}`;
    this.auth = new Authenticator(options.registry, options.credentials, options.plainHttp);
  }

  /** Absolute URL of a `/v2/…` path (or a Location relative to `base`). */
  resolve(url: string | URL, base: string | URL = this.origin): URL {
    return url instanceof URL ? url : new URL(url, base);
  }

  /** Removes any credential or token from server-provided text. */
  redact(text: string): string {
    return this.auth.redact(text);
  }

  /** Logs a progress line (never with secrets: callers pass paths without queries). */
  log(line: string): void {
    this.options.log(line);
  }

  /**
   * Sends `request` and hands the response to `handle`, retrying both on transient failures when the
   * body is replayable. Retryable statuses never reach `handle`; everything else does.
   */
  async request<T>(request: RegistryRequest, handle: (response: RegistryResponse) => Promise<T>): Promise<T> {
    const replayable = request.body === undefined || Buffer.isBuffer(request.body);
    const url = this.resolve(request.url);
    const attempts = replayable ? (request.retries ?? this.options.retries) + 1 : 1;
    for (let attempt = 1; ; attempt += 1) {
      let failure: RegistryError;
      let retryAfterMs: number | undefined;
      try {
        return await this.attempt(request, url, handle);
      } catch (error) {
        const classified = this.classify(error, request.method, url);
        if (!(classified instanceof RetrySignal)) throw classified;
        failure = classified.error;
        retryAfterMs = classified.retryAfterMs;
      }
      if (attempt >= attempts) {
        if (!replayable) throw failure;
        const suffix = attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
        throw new RegistryError(failure.code, `${failure.message}${suffix}`, {
          cause: failure.cause,
          details: { ...failure.details, attempts },
        });
      }
      const delay = this.delay(attempt, retryAfterMs);
      this.log(
        `retrying ${describeRequest(request.method, url)} in ${delay} ms (${attempt}/${attempts - 1}): ${failure.message}`,
      );
      await sleep(delay);
    }
  }

  /** Backoff before retry `attempt` (1-based): Retry-After when given, else exponential with jitter. */
  delay(attempt: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), MAX_RETRY_DELAY_MS);
    const base = this.options.retryBaseDelayMs * 2 ** (attempt - 1);
    return Math.min(Math.round(base * (0.5 + Math.random() * 0.5)), MAX_RETRY_DELAY_MS);
  }

  private async attempt<T>(
    request: RegistryRequest,
    start: URL,
    handle: (response: RegistryResponse) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => controller.abort(new IdleTimeout(`no progress for ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    };
    touch();
    try {
      const response = await this.exchange(request, start, controller.signal, touch);
      if (isRetryableStatus(response.status)) {
        const error = await response.fail('REGISTRY_UNREACHABLE');
        const retryable = new RegistryError('REGISTRY_UNREACHABLE', error.message, {
          details: { ...error.details, retryable: true },
        });
        throw new RetrySignal(retryable, parseRetryAfter(response.headers.get('retry-after')));
      }
      return await handle(response);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request with auth and redirects; returns the first non-redirect, non-challenge response. */
  private async exchange(
    request: RegistryRequest,
    start: URL,
    signal: AbortSignal,
    touch: () => void,
  ): Promise<RegistryResponse> {
    let url = start;
    let method: string = request.method;
    let body = request.body;
    let reauthenticated = false;
    for (let hops = 0; ;) {
      const sameOrigin = url.origin === this.origin;
      const authorization = sameOrigin ? this.auth.authorization(request.scopes) : undefined;
      const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...request.headers };
      if (authorization !== undefined) headers.authorization = authorization;
      const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'manual', signal };
      if (body !== undefined) {
        headers['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.length);
        if (Buffer.isBuffer(body)) init.body = body;
        else {
          init.body = progress(body.stream, touch) as unknown as RequestInit['body'];
          init.duplex = 'half';
        }
      }
      const raw = await this.options.fetch(url, init);
      touch();
      const response = this.wrap(raw, method, url, touch);

      if (raw.status === 401 && sameOrigin) {
        const errors = await response.errors();
        if (reauthenticated) {
          throw new RegistryError(
            'REGISTRY_AUTH_FAILED',
            `${describeRequest(method, url)}: 401 again after authenticating${formatRegistryErrors(errors)}`,
            {
              details: {
                method,
                registry: url.host,
                path: url.pathname,
                status: 401,
                errors: errors.map((e) => e.code),
              },
            },
          );
        }
        const challenges = parseWwwAuthenticate(raw.headers.get('www-authenticate') ?? '');
        await this.auth.answer(challenges, request.scopes, authorization, (realm, basic) =>
          this.fetchToken(realm, basic),
        );
        reauthenticated = true;
        if (body !== undefined && !Buffer.isBuffer(body)) {
          // The stream is spent; let the caller restart with a fresh one, now authenticated.
          throw new RegistryError('REGISTRY_AUTH_FAILED', `${describeRequest(method, url)}: authentication renewed`, {
            details: { method, registry: url.host, path: url.pathname, status: 401, retryable: true },
          });
        }
        continue;
      }
      if (isRedirect(raw.status)) {
        await response.discard();
        hops += 1;
        if (hops > MAX_REDIRECTS) throw protocol(method, url, `more than ${MAX_REDIRECTS} redirects`);
        const next = this.redirectTarget(method, url, raw.headers.get('location'));
        if (raw.status === 303) {
          method = method === 'HEAD' ? 'HEAD' : 'GET';
          body = undefined;
        } else if (body !== undefined && !Buffer.isBuffer(body)) {
          throw protocol(method, url, `redirect ${raw.status} for a streamed upload`);
        }
        url = next;
        continue;
      }
      return response;
    }
  }

  private redirectTarget(method: string, from: URL, location: string | null): URL {
    if (location === null || location === '') throw protocol(method, from, 'redirect without a Location');
    let next: URL;
    try {
      next = new URL(location, from);
    } catch {
      throw protocol(method, from, 'redirect to an invalid Location');
    }
    if (next.protocol !== 'https:' && next.protocol !== 'http:') {
      throw protocol(method, from, `redirect to unsupported scheme ${next.protocol}`);
    }
    if (from.protocol === 'https:' && next.protocol === 'http:') {
      throw protocol(method, from, `redirect from https to http (${next.host}) refused`);
    }
    if (next.username !== '' || next.password !== '') {
      throw protocol(method, from, 'redirect to a URL with credentials refused');
    }
    return next;
  }

  /** GET on the token realm; Basic credentials go to the realm's origin only. */
  private async fetchToken(realm: URL, basic: string | undefined): Promise<unknown> {
    const realmOrigin = realm.origin;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.tokenAttempt(realm, realmOrigin, basic);
      } catch (error) {
        const classified = this.classify(error, 'GET', realm);
        if (!(classified instanceof RetrySignal)) throw classified;
        if (attempt > this.options.retries) throw classified.error;
        await sleep(this.delay(attempt, classified.retryAfterMs));
      }
    }
  }

  private async tokenAttempt(realm: URL, realmOrigin: string, basic: string | undefined): Promise<unknown> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let url = realm;
    for (let hops = 0; ; hops += 1) {
      const headers: Record<string, string> = { 'user-agent': this.options.userAgent, accept: 'application/json' };
      if (basic !== undefined && url.origin === realmOrigin) headers.authorization = basic;
      const raw = await this.options.fetch(url, { method: 'GET', headers, redirect: 'manual', signal });
      const response = this.wrap(raw, 'GET', url, () => undefined);
      if (isRedirect(raw.status)) {
        await response.discard();
        if (hops >= MAX_REDIRECTS) throw protocol('GET', url, `more than ${MAX_REDIRECTS} redirects`);
        url = this.redirectTarget('GET', url, raw.headers.get('location'));
        continue;
      }
      if (isRetryableStatus(raw.status)) {
        const error = await response.fail('REGISTRY_UNREACHABLE');
        throw new RetrySignal(
          new RegistryError('REGISTRY_UNREACHABLE', error.message, { details: { ...error.details, retryable: true } }),
          parseRetryAfter(raw.headers.get('retry-after')),
        );
      }
      if (raw.status !== 200) {
        const error = await response.fail('REGISTRY_AUTH_FAILED', '200');
        throw new RegistryError('REGISTRY_AUTH_FAILED', `token request failed: ${error.message}`, {
          details: error.details,
        });
      }
      const bytes = await response.bytes(MAX_ERROR_BODY, () =>
        protocol('GET', url, `token response larger than ${MAX_ERROR_BODY} bytes`),
      );
      try {
        return JSON.parse(bytes.toString('utf8')) as unknown;
      } catch {
        throw new RegistryError('REGISTRY_AUTH_FAILED', `${describeRequest('GET', url)}: token response is not JSON`);
      }
    }
  }

  private wrap(raw: Response, method: string, url: URL, touch: () => void): RegistryResponse {
    const chunks = async function* (): AsyncGenerator<Buffer> {
      if (raw.body === null) return;
      for await (const chunk of raw.body as unknown as AsyncIterable<Uint8Array>) {
        touch();
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    };
    const bytes = async (maxBytes: number, tooLarge: () => RegistryError): Promise<Buffer> => {
      const parts: Buffer[] = [];
      let total = 0;
      const iterator = chunks();
      for await (const chunk of iterator) {
        total += chunk.length;
        if (total > maxBytes) {
          await raw.body?.cancel().catch(() => undefined);
          throw tooLarge();
        }
        parts.push(chunk);
      }
      return Buffer.concat(parts, total);
    };
    let errorList: Promise<RegistryErrorEntry[]> | undefined;
    const errors = (): Promise<RegistryErrorEntry[]> => {
      errorList ??= bytes(MAX_ERROR_BODY, () => protocol(method, url, 'oversized error body')).then(
        (body) => parseRegistryErrors(body.toString('utf8'), (t) => this.redact(t)),
        () => [],
      );
      return errorList;
    };
    return {
      status: raw.status,
      headers: raw.headers,
      url,
      method,
      bytes,
      chunks,
      discard: async () => {
        await raw.body?.cancel().catch(() => undefined);
      },
      errors,
      fail: async (fallback, expected) => unexpectedStatus(method, url, raw.status, await errors(), fallback, expected),
    };
  }

  /** Sorts a thrown value into a retry signal or the error to surface. */
  private classify(error: unknown, method: string, url: URL): RetrySignal | unknown {
    if (error instanceof RetrySignal) return error;
    if (error instanceof BodySourceError) return error.original;
    const cause = (error as { cause?: unknown } | null)?.cause;
    if (cause instanceof BodySourceError) return cause.original;
    if (cause instanceof RegistryError) return this.classify(cause, method, url);
    if (error instanceof RegistryError) {
      return error.details?.retryable === true ? new RetrySignal(error, undefined) : error;
    }
    if (!isNetworkError(error)) return error;
    const reason =
      error instanceof IdleTimeout
        ? error.message
        : cause instanceof IdleTimeout
          ? cause.message
          : networkReason(error);
    return new RetrySignal(
      new RegistryError('REGISTRY_UNREACHABLE', `${describeRequest(method, url)}: ${reason}`, {
        cause: error,
        details: { method, registry: url.host, path: url.pathname, retryable: true },
      }),
      undefined,
    );
  }
}

/** A transient failure and how long the server asked us to wait. */
class RetrySignal {
  constructor(
    readonly error: RegistryError,
    readonly retryAfterMs: number | undefined,
  ) {}
}

async function* progress(source: AsyncIterable<Buffer>, touch: () => void): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw error instanceof RegistryError ? error : new BodySourceError(error);
    }
    if (next.done === true) return;
    touch();
    yield next.value;
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const NETWORK_CODE = /^(?:ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENETDOWN|ENOTFOUND|EAI_AGAIN|UND_ERR_)/;

/** Failures of the connection itself (fetch's TypeErrors, socket codes, our idle timeout), not of local I/O. */
function isNetworkError(error: unknown): boolean {
  if (error instanceof IdleTimeout) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof IdleTimeout) return true;
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) return true;
  if (error instanceof TypeError && (error.message === 'fetch failed' || error.message === 'terminated')) return true;
  const codes = [error, cause].map((e) => (e as { code?: unknown } | null)?.code);
  return codes.some((code) => typeof code === 'string' && NETWORK_CODE.test(code));
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const detail = typeof cause?.message === 'string' ? `: ${cause.message}` : '';
  return `network error (${code ?? message}${detail})`.slice(0, 300);
}

function protocol(method: string, url: URL, problem: string): RegistryError {
  return new RegistryError('REGISTRY_PROTOCOL', `${describeRequest(method, url)}: ${problem}`, {
    details: { method, registry: url.host, path: url.pathname },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
