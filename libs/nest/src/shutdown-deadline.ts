/**
 * Bounds a graceful shutdown: Nest's shutdown hooks close the HTTP server, abort running builds and
 * close the workers; if that hangs, the process exits anyway after `timeoutMs`.
 */
export function armShutdownDeadline(timeoutMs: number): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        process.stderr.write(`secure-build: graceful shutdown took longer than ${timeoutMs} ms; exiting\n`);
        process.exit(1);
      }, timeoutMs).unref();
    });
  }
}
