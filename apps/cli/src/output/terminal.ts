import { BuildEvent } from '@secure-build/build';

/** Renders pipeline progress: one line per stage on stderr, build output indented below it. */
export function createProgressRenderer(
  stream: NodeJS.WriteStream,
  options: { quiet: boolean },
): (event: BuildEvent) => void {
  const tty = stream.isTTY === true;
  const paint = (code: string, text: string): string => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
  let pending = '';
  return (event) => {
    switch (event.type) {
      case 'stage-start':
        stream.write(`${paint('1', `▶ ${event.stage}`)} ${event.detail ?? ''}\n`);
        return;
      case 'stage-end':
        stream.write(`${paint('32', `✔ ${event.stage}`)} ${paint('2', `${(event.durationMs / 1000).toFixed(2)}s`)}\n`);
        return;
      case 'log': {
        if (options.quiet) return;
        const lines = (pending + event.chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) stream.write(`${paint('2', '  │')} ${line}\n`);
        return;
      }
    }
  };
}
