// The PostgreSQL adapter, kept out of the main entry point so embedded users never load the driver (`keel/postgres`).
export type { PostgresEventStoreOptions, PostgresStoreCommonOptions } from './postgres-event-store.ts';
export {
  createPostgresEventStore,
  DEFAULT_APPENDS_IN_FLIGHT,
  DEFAULT_POSTGRES_SCHEMA,
} from './postgres-event-store.ts';
