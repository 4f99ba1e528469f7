export { createSqliteEventStore } from './sqlite-event-store.ts';
export type { SqliteEventStoreOptions, SqliteStoreCommonOptions } from './sqlite-options.ts';
