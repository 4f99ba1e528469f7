import type { Sql } from 'postgres';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';

/** How to open the workflow tables on PostgreSQL: beside the event store, in its schema. */
export type PostgresWorkflowBackendOptions = {
  /** The event store's schema (`createPostgresEventStore`'s `schema`); default `keel`. */
  schema?: string;
  /** With `url`: most connections the backend opens for claims, renewals and reads; default 4. */
  maxConnections?: number;
} & (
  | {
      /** Connection string of the event store's database (`KEEL_POSTGRES_URL`). */
      url: string;
      sql?: undefined;
    }
  | {
      /** A postgres.js instance on the event store's database, left open on close. */
      sql: Sql;
      url?: undefined;
    }
);

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const isFunction = (value: unknown): boolean => typeof value === 'function';

/** The PostgreSQL backend's options with their defaults; `url` or `sql` says where to connect. */
export const postgresWorkflowBackendOptionsSchema = z
  .object({
    schema: z
      .string({ error: 'expected a schema name' })
      .regex(SCHEMA_NAME, { error: "expected lower-case letters, digits and '_' (at most 63)" })
      .default('keel'),
    maxConnections: z
      .int({ error: 'expected an integer ≥ 1' })
      .min(1, { error: 'expected an integer ≥ 1' })
      .default(4),
    url: z.string({ error: 'expected a connection string' }).optional(),
    sql: z.custom<Sql>(isFunction, { error: 'expected a postgres.js instance' }).optional(),
  })
  .refine((options) => options.url !== undefined || options.sql !== undefined, {
    error: 'expected a connection string (or a postgres.js instance in sql)',
    path: ['url'],
  });

/** The PostgreSQL backend's options as parsed: every default applied. */
export type PostgresWorkflowBackendSettings = z.output<typeof postgresWorkflowBackendOptionsSchema>;

/** Checks the PostgreSQL backend's options once, at its factory's entry; an OptionsError names each broken key. */
export function parsePostgresWorkflowBackendOptions(
  options: PostgresWorkflowBackendOptions,
): PostgresWorkflowBackendSettings {
  return parseOptions(postgresWorkflowBackendOptionsSchema, options, 'postgres workflow backend');
}
