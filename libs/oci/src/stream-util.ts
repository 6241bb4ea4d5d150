/** The part of a (Node or streamx) writable that backpressure handling needs. */
export interface DrainableSink {
  readonly destroyed: boolean;
}

interface Emitter {
  on(event: string, listener: (error?: Error) => void): unknown;
  off(event: string, listener: (error?: Error) => void): unknown;
}

/** Resolves on the sink's next `drain`; rejects if it errors or closes first, so callers never hang. */
export function drained(sink: DrainableSink): Promise<void> {
  if (sink.destroyed) return Promise.reject(new Error('stream destroyed before draining'));
  const emitter = sink as unknown as Emitter;
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error): void => {
      emitter.off('drain', onDrain);
      emitter.off('close', onClose);
      emitter.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new Error('stream closed before draining'));
    const onError = (error?: Error): void => settle(error ?? new Error('stream failed'));
    emitter.on('drain', onDrain);
    emitter.on('close', onClose);
    emitter.on('error', onError);
  });
}
