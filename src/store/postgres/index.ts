// The PostgreSQL adapter, kept out of the main entry point so embedded users never load the driver (`keel/postgres`).

export { createPostgresEventStore } from './postgres-event-store.ts';
export type { PostgresEventStoreOptions, PostgresStoreCommonOptions } from './postgres-options.ts';
export { DEFAULT_APPENDS_IN_FLIGHT, DEFAULT_POSTGRES_SCHEMA } from './postgres-options.ts';
