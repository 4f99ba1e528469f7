export type { StoreSchemaProblem } from './errors.ts';
export {
  DuplicateEventIdError,
  InvalidAppendError,
  InvalidCheckpointError,
  StoreClosedError,
  StoreSchemaError,
  TenantMismatchError,
  WrongExpectedVersionError,
} from './errors.ts';
export type {
  AppendHook,
  AppendHookContext,
  AppendOptions,
  AppendResult,
  EventFilter,
  EventStore,
  ExpectedVersion,
  ReadAllOptions,
  ReadAllPage,
  ReadStreamOptions,
  StoredEvent,
  StoreTransaction,
  StreamPage,
  SubscribeOptions,
  Subscription,
} from './event-store.ts';
export { DEFAULT_TENANT } from './event-store.ts';
export type { SqliteEventStoreOptions, SqliteStoreCommonOptions } from './sqlite/index.ts';
export { createSqliteEventStore } from './sqlite/index.ts';
