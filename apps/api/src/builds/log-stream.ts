import type { Request, Response } from 'express';

import type { BuildsService } from '@secure-build/service';

const POLL_MS = 300;
// A build's status turns terminal before its worker has flushed its last log lines (completion, or a
// cancellation decided by the API): keep reading this long after the end before closing the stream.
const DRAIN_MS = 1500;

/**
 * Server-sent events: one `log` event per stored chunk (id = chunk id, so clients resume with
 * Last-Event-ID), then an `end` event once the build has ended and every chunk was sent.
 */
export async function streamLogs(builds: BuildsService, id: string, req: Request, res: Response): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  let closed = false;
  req.on('close', () => (closed = true));
  let after = Number(req.headers['last-event-id'] ?? 0) || 0;
  let endedAt: number | undefined;
  while (!closed) {
    const page = await builds.logs(id, after);
    for (const chunk of page.chunks) {
      const data = chunk.chunk
        .split('\n')
        .map((line) => `data: ${line}`)
        .join('\n');
      res.write(`id: ${chunk.id}\nevent: log\n${data}\n\n`);
      after = chunk.id;
    }
    if (page.chunks.length > 0) continue;
    if (page.ended) endedAt ??= Date.now();
    if (endedAt !== undefined && Date.now() - endedAt >= DRAIN_MS) {
      const build = await builds.get(id);
      res.write(`event: end\ndata: ${JSON.stringify({ status: build.status, failure: build.failure })}\n\n`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  res.end();
}
