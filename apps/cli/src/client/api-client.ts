import { CliError, ExitCode } from '../exit-codes';

/** Minimal client for the Secure Build REST API (token from SECURE_BUILD_TOKEN). */
export class ApiClient {
  private readonly base: string;

  constructor(
    server: string,
    private readonly token = process.env.SECURE_BUILD_TOKEN,
  ) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new CliError(`--server must be a URL such as http://127.0.0.1:8080, got '${server}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError('--server must be an http(s) URL');
    this.base = url.toString().replace(/\/+$/, '');
  }

  /** Sends a request; non-2xx answers become a CliError carrying the server's message. */
  async request(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; accept?: string } = {},
  ): Promise<Response> {
    if (!this.token) throw new CliError('set SECURE_BUILD_TOKEN to an API token (ask an admin: POST /v1/tokens)');
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: init.accept ?? 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    } catch (error) {
      throw new CliError(
        `cannot reach ${this.base}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
        ExitCode.Failed,
      );
    }
    if (!response.ok) {
      const text = await response.text();
      let message = text;
      try {
        const body = JSON.parse(text) as { code?: string; message?: string };
        message = `${body.message ?? text}${body.code ? ` [${body.code}]` : ''}`;
      } catch {
        // not JSON: keep the text
      }
      const usage = response.status === 400 || response.status === 404 || response.status === 422;
      throw new CliError(
        `${method} ${path}: HTTP ${response.status}: ${message}`,
        usage ? ExitCode.Usage : ExitCode.Failed,
      );
    }
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return (await (await this.request(method, path, { body, headers })).json()) as T;
  }
}
