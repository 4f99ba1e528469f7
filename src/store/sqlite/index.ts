export type { SqliteEventStoreOptions, SqliteStoreCommonOptions } from './sqlite-event-store.ts';
export { createSqliteEventStore } from './sqlite-event-store.ts';
