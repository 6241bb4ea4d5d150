import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';

/** `git http-backend` as Debian installs it; `git http-backend` through PATH otherwise. */
const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

/** One request the server answered (or refused). */
export interface GitRequest {
  method: string;
  /** decoded path, e.g. `/org/app.git/info/refs` */
  path: string;
  query: string;
  /** `git-upload-pack` (clone, fetch, ls-remote) or `git-receive-pack` (push), when recognizable */
  service?: 'git-upload-pack' | 'git-receive-pack';
  /** the request's Git-Protocol header, e.g. `version=2` */
  gitProtocol: string;
  userAgent: string;
  status: number;
}

/** A smart-HTTP git server for tests (git-and-webhooks.md §7). */
export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** directory holding the bare repositories */
  root: string;
  /** every request so far, in arrival order (the array grows; slice it to look at a window) */
  requests: GitRequest[];
  /** creates an empty bare repository `<name>` (e.g. `org/app.git`) and returns its clone URL */
  createRepo(name: string, defaultBranch?: string): string;
  /** clone URL of a repository path, e.g. `org/app.git` */
  repoUrl(name: string): string;
  /** stops listening, kills running backends and removes the root directory */
  close(): Promise<void>;
}

const REPO_NAME = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)*[A-Za-z0-9][A-Za-z0-9._-]*\.git$/;

/**
 * Serves the bare repositories under a temporary root with `git http-backend` (CGI) on 127.0.0.1
 * and a free port: clone, protocol v2 fetch of any commit by SHA (the Git-Protocol header is passed
 * as GIT_PROTOCOL) and push (REMOTE_USER is set, which enables receive-pack). Every request is
 * logged in `requests`, so tests can assert who fetched what.
 */
export async function startGitHttpServer(): Promise<GitHttpServer> {
  const root = mkdtempSync(join(tmpdir(), 'sb-git-http-'));
  const requests: GitRequest[] = [];
  const backends = new Set<ChildProcess>();
  const server: Server = createServer((req, res) => serve(root, req, res, requests, backends));
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ready());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const repoUrl = (name: string) => `${url}/${name}`;
  return {
    url,
    root,
    requests,
    repoUrl,
    createRepo(name, defaultBranch = 'main') {
      if (!REPO_NAME.test(name)) throw new Error(`bad repository name ${name}`);
      const dir = join(root, name);
      mkdirSync(dirname(dir), { recursive: true });
      execFileSync('git', ['init', '-q', '--bare', '-b', defaultBranch, dir], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      });
      return repoUrl(name);
    },
    async close() {
      for (const child of backends) child.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function serve(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  requests: GitRequest[],
  backends: Set<ChildProcess>,
): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    path = url.pathname;
  }
  const query = url.search.slice(1);
  const service =
    /(?:^|&)service=(git-upload-pack|git-receive-pack)(?:&|$)/.exec(query)?.[1] ??
    /\/(git-upload-pack|git-receive-pack)$/.exec(path)?.[1];
  const entry: GitRequest = {
    method: req.method ?? 'GET',
    path,
    query,
    ...(service ? { service: service as GitRequest['service'] } : {}),
    gitProtocol: header(req, 'git-protocol'),
    userAgent: header(req, 'user-agent'),
    status: 0,
  };
  requests.push(entry);
  const reply = (status: number, text: string) => {
    entry.status = status;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`${text}\n`);
  };
  // Never let a request name something outside the root (http-backend checks too; belt and braces).
  if (path.includes('\0') || !resolve(root, `.${path}`).startsWith(root + sep)) return reply(400, 'bad path');

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: entry.method,
    PATH_INFO: path,
    QUERY_STRING: query,
    CONTENT_TYPE: header(req, 'content-type'),
    GIT_PROTOCOL: entry.gitProtocol,
    HTTP_CONTENT_ENCODING: header(req, 'content-encoding'),
    REMOTE_USER: 'test',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  const length = header(req, 'content-length');
  if (length !== '') env.CONTENT_LENGTH = length;

  const cgi = spawn(HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  backends.add(cgi);
  let stderr = '';
  cgi.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  cgi.on('error', (error) => {
    backends.delete(cgi);
    if (!res.headersSent) reply(500, `cannot run git http-backend: ${error.message}`);
  });
  cgi.on('close', () => backends.delete(cgi));
  cgi.stdin.on('error', () => undefined); // the backend may exit before reading everything
  req.pipe(cgi.stdin);

  // CGI response: header lines up to a blank line, then the body, streamed as it comes.
  let head = Buffer.alloc(0);
  let headerDone = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (!end) return;
    headerDone = true;
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of head.subarray(0, end.index).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    entry.status = status;
    res.writeHead(status, headers);
    res.write(head.subarray(end.index + end.length));
  });
  cgi.stdout.on('end', () => {
    if (!headerDone) {
      if (!res.headersSent) reply(502, `git http-backend sent no headers: ${stderr.trim()}`);
      return;
    }
    res.end();
  });
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { index: crlf, length: 4 };
  if (lf >= 0) return { index: lf, length: 2 };
  return undefined;
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
