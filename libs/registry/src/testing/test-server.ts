import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the test server received it, body read in full. */
export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Answers one request; may also destroy the socket to simulate a reset. */
export type TestHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

/** A scripted HTTP server on 127.0.0.1 and a free port (unit tests only). */
export interface TestServer {
  /** `127.0.0.1:<port>` */
  host: string;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every request so far, in arrival order. */
  requests: RecordedRequest[];
  /** The current handler; replace it per test. */
  handle: TestHandler;
  close(): Promise<void>;
}

/** Starts a scripted server; requests are recorded, then handed to `server.handle`. */
export async function startTestServer(handle: TestHandler = notFound): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const state: TestServer = {
    host: '',
    origin: '',
    requests,
    handle,
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      Promise.resolve(state.handle(recorded, res)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ready());
  });
  const { port } = server.address() as AddressInfo;
  state.host = `127.0.0.1:${port}`;
  state.origin = `http://127.0.0.1:${port}`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  };
  return state;
}

/** Sends a JSON (or empty) response. */
export function reply(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
  body: Buffer | string | object = '',
): void {
  const bytes = Buffer.isBuffer(body)
    ? body
    : typeof body === 'string'
      ? Buffer.from(body)
      : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-length': String(bytes.length), ...headers });
  res.end(bytes);
}

/** A distribution-spec error body. */
export function registryErrors(code: string, message: string): object {
  return { errors: [{ code, message, detail: null }] };
}

function notFound(_req: RecordedRequest, res: ServerResponse): void {
  reply(res, 404, { 'content-type': 'application/json' }, registryErrors('NOT_FOUND', 'not found'));
}
