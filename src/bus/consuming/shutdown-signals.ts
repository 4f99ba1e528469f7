import type { Logger } from 'pino';

/**
 * Closes the router on each of `signals`, then exits the process unless something else listens for
 * that signal; returns how to stop listening.
 */
export function closeOnSignals(
  signals: readonly NodeJS.Signals[],
  close: () => Promise<void>,
  logger: Logger,
): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void close().then(() => {
      if (process.listenerCount(signal) === 0) process.exit(0);
    });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
