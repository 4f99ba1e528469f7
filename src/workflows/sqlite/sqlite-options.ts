import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';

/** How to open the workflow tables on SQLite. */
export interface SqliteWorkflowBackendOptions {
  /** The event store's SQLite file: the backend opens its own connection to it. */
  path: string;
  /** `full` (default) fsyncs every commit; `normal` survives process crashes only. */
  synchronous?: 'normal' | 'full';
  /**
   * Milliseconds a write on the backend's connection keeps retrying while another connection holds the
   * write lock (the store's append, another process); default 10 000.
   */
  busyRetryMs?: number;
}

/** The SQLite backend's options with their defaults. */
export const sqliteWorkflowBackendOptionsSchema = z.object({
  path: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' }),
  synchronous: z.enum(['normal', 'full'], { error: "expected 'normal' or 'full'" }).default('full'),
  busyRetryMs: z
    .number({ error: 'expected milliseconds ≥ 0' })
    .min(0, { error: 'expected milliseconds ≥ 0' })
    .default(10_000),
});

/** The SQLite backend's options as parsed: every default applied. */
export type SqliteWorkflowBackendSettings = z.output<typeof sqliteWorkflowBackendOptionsSchema>;

/** Checks the SQLite backend's options once, at its factory's entry; an OptionsError names each broken key. */
export function parseSqliteWorkflowBackendOptions(
  options: SqliteWorkflowBackendOptions,
): SqliteWorkflowBackendSettings {
  return parseOptions(sqliteWorkflowBackendOptionsSchema, options, 'sqlite workflow backend');
}
