import { writeFile } from 'node:fs/promises';

import { Command } from 'commander';

import { ApiClient } from '../client/api-client';
import { CliError, ExitCode } from '../exit-codes';

interface BuildView {
  id: string;
  status: string;
  repository: string;
  commit: string;
  manifestDigest: string | null;
  failure: { code: string; reason: string } | null;
  stages: { stage: string; attempt: number; durationMs: number | null }[];
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const serverOption = (c: Command) =>
  c.requiredOption('--server <url>', 'Secure Build API, e.g. http://127.0.0.1:8080 (token: SECURE_BUILD_TOKEN)');

/** `secure-build submit`: queue a build on the service. */
export function submitCommand(): Command {
  return serverOption(new Command('submit'))
    .description('submit a build of a pinned commit to the service')
    .requiredOption('--repo <url>', 'repository URL')
    .requiredOption('--commit <sha>', 'full commit SHA')
    .option('--ref <ref>', 'refs/heads/<branch> or refs/tags/<tag> the commit came from')
    .option('--recipe <path>', 'recipe path in the repository')
    .option('--image-name <name>', 'image name')
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the same build')
    .option('--wait', 'wait until the build ends; exit 0 only if it succeeded')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        server: string;
        repo: string;
        commit: string;
        ref?: string;
        recipe?: string;
        imageName?: string;
        idempotencyKey?: string;
        wait?: boolean;
        json?: boolean;
      }) => {
        const client = new ApiClient(o.server);
        const accepted = await client.json<{ id: string; status: string }>(
          'POST',
          '/v1/builds',
          { repository: o.repo, commit: o.commit, ref: o.ref, recipePath: o.recipe, imageName: o.imageName },
          o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined,
        );
        if (!o.wait) {
          process.stdout.write(o.json ? `${JSON.stringify(accepted)}\n` : `${accepted.id} ${accepted.status}\n`);
          return;
        }
        process.stderr.write(`build ${accepted.id} accepted; waiting…\n`);
        const build = await waitForBuild(client, accepted.id);
        printBuild(build, o.json);
        if (build.status !== 'succeeded') process.exitCode = ExitCode.Failed;
      },
    );
}

/** `secure-build status <id>`. */
export function statusCommand(): Command {
  return serverOption(new Command('status'))
    .description('show a build')
    .argument('<id>', 'build id')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { server: string; json?: boolean }) => {
      printBuild(await new ApiClient(o.server).json<BuildView>('GET', `/v1/builds/${encodeURIComponent(id)}`), o.json);
    });
}

/** `secure-build logs <id> [--follow]`. */
export function logsCommand(): Command {
  return serverOption(new Command('logs'))
    .description('print a build log; --follow streams it until the build ends')
    .argument('<id>', 'build id')
    .option('--follow', 'stream live (server-sent events)')
    .action(async (id: string, o: { server: string; follow?: boolean }) => {
      const client = new ApiClient(o.server);
      const path = `/v1/builds/${encodeURIComponent(id)}/logs`;
      if (!o.follow) {
        process.stdout.write(await (await client.request('GET', path, { accept: 'text/plain' })).text());
        return;
      }
      const response = await client.request('GET', path, { accept: 'text/event-stream' });
      const end = await followEvents(response, (data) => process.stdout.write(data));
      if (end && end.status !== 'succeeded') process.exitCode = ExitCode.Failed;
    });
}

/** `secure-build provenance <id> -o file`. */
export function provenanceCommand(): Command {
  return serverOption(new Command('provenance'))
    .description("download a build's Sigstore bundle")
    .argument('<id>', 'build id')
    .requiredOption('-o, --output <file>', 'where to write the bundle')
    .action(async (id: string, o: { server: string; output: string }) => {
      const response = await new ApiClient(o.server).request('GET', `/v1/builds/${encodeURIComponent(id)}/provenance`, {
        accept: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      });
      await writeFile(o.output, Buffer.from(await response.arrayBuffer()));
      process.stderr.write(`wrote ${o.output}\n`);
    });
}

/** Fetches a bundle for `verify --server --build`. */
export async function fetchBundle(server: string, buildId: string): Promise<string> {
  const response = await new ApiClient(server).request('GET', `/v1/builds/${encodeURIComponent(buildId)}/provenance`, {
    accept: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  });
  return response.text();
}

async function waitForBuild(client: ApiClient, id: string): Promise<BuildView> {
  for (let delay = 500; ; delay = Math.min(delay * 1.5, 5000)) {
    const build = await client.json<BuildView>('GET', `/v1/builds/${encodeURIComponent(id)}`);
    if (TERMINAL.has(build.status)) return build;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function printBuild(build: BuildView, json?: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(build, null, 2)}\n`);
    return;
  }
  const lines = [
    `build     ${build.id}`,
    `status    ${build.status}`,
    `source    ${build.repository} @ ${build.commit}`,
    ...(build.manifestDigest ? [`image     ${build.manifestDigest}`] : []),
    ...(build.failure ? [`failure   [${build.failure.code}] ${build.failure.reason}`] : []),
    ...build.stages.map(
      (s) =>
        `  ${s.stage.padEnd(10)} ${s.durationMs === null ? 'running' : `${(s.durationMs / 1000).toFixed(2)}s`}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Reads an SSE stream, writing `log` events; returns the `end` event's data. */
async function followEvents(
  response: Response,
  write: (text: string) => void,
): Promise<{ status: string } | undefined> {
  if (!response.body) throw new CliError('the server sent no stream', ExitCode.Failed);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: ') || l === 'data:')
        .map((l) => l.slice(6))
        .join('\n');
      if (event === 'log') write(data);
      if (event === 'end') return JSON.parse(data) as { status: string };
    }
  }
  return undefined;
}
