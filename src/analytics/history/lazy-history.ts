import { type History, type HistoryOptions, openHistory } from './history.ts';

/** The history database, opened on first use (a node that never queries never opens DuckDB). */
export interface LazyHistory {
  /** The opened history; the same one on every call (a failed open is tried again on the next). */
  get(): Promise<History>;
  /** Closes it if it was opened. */
  close(): Promise<void>;
}

/** A history that opens with `options` when first asked for. */
export function lazyHistory(options: HistoryOptions): LazyHistory {
  let opening: Promise<History> | undefined;
  return {
    get() {
      opening ??= openHistory(options).catch((error: unknown) => {
        opening = undefined;
        throw error;
      });
      return opening;
    },
    async close() {
      const opened = await opening?.catch(() => undefined);
      opened?.close();
      opening = undefined;
    },
  };
}
