// The event store: the port, the embedded SQLite adapter, and everything built on the port (deciders,
// projections, replay, the outbox relay, archiving). The PostgreSQL adapter is `keel/postgres`.
export type { ArchiveFileReport, ArchiveToFileOptions } from './archive/archive-to-file.ts';
export { archiveToFile } from './archive/archive-to-file.ts';
export type {
  CommandHandler,
  CommandHandlerOptions,
  CommandResult,
  CommandRetryOptions,
  EventContext,
  HandleCommandOptions,
  LoadedAggregate,
  SnapshotPolicy,
} from './deciders/command-handler.ts';
export { createCommandHandler, DEFAULT_SNAPSHOT_EVERY } from './deciders/command-handler.ts';
export type { Decider, DomainEvent, DomainEventOf } from './deciders/decider.ts';
export { decisionEvents, foldEvents } from './deciders/decider.ts';
export type { DeciderSpecification, ErrorCheck, ThenStep, WhenStep } from './deciders/decider-spec.ts';
export { deciderSpec } from './deciders/decider-spec.ts';
export type { StoreSchemaProblem } from './errors.ts';
export {
  ArchiveMismatchError,
  DuplicateEventIdError,
  InvalidAppendError,
  InvalidCheckpointError,
  ProjectionNotRunningError,
  ProjectionRebuildAbortedError,
  ProjectionRebuildConflictError,
  ProjectionScopeError,
  StoreClosedError,
  StoreSchemaError,
  StreamDeletedError,
  TenantMismatchError,
  WrongExpectedVersionError,
} from './errors.ts';
export type {
  AppendHook,
  AppendHookContext,
  AppendOptions,
  AppendResult,
  ArchivedEvent,
  ArchiveOptions,
  ArchiveReport,
  CheckpointRange,
  CountEventsOptions,
  DeleteStreamOptions,
  EventFilter,
  EventStore,
  ExpectedVersion,
  ListStreamsOptions,
  OutboxEntry,
  OutboxLease,
  OutboxSelector,
  ReadAllOptions,
  ReadAllPage,
  ReadStreamOptions,
  Snapshot,
  SnapshotInput,
  StoredEvent,
  StoreOutbox,
  StoreTransaction,
  StreamDeletion,
  StreamInfo,
  StreamPage,
  SubscribeOptions,
  Subscription,
  SubscriptionRetryOptions,
} from './event-store.ts';
export { DEFAULT_TENANT } from './event-store.ts';
export type { OutboxRelay, OutboxRelayOptions } from './outbox/outbox-relay.ts';
export { createOutboxRelay } from './outbox/outbox-relay.ts';
export type {
  AsyncProjection,
  AsyncProjectionOptions,
  RebuildOptions,
  RebuildProgress,
  RebuildReport,
} from './projections/async-projection.ts';
export { createAsyncProjection } from './projections/async-projection.ts';
export type { InlineProjection } from './projections/inline-projection.ts';
export { inlineProjection } from './projections/inline-projection.ts';
export type { ProjectionContext, ProjectionDefinition, ProjectionTable } from './projections/projection.ts';
export { defineProjection } from './projections/projection.ts';
export { protectedEventStore } from './protected-store.ts';
export type { ReplayFilter, ReplayOptions, ReplayProgress, ReplayReport } from './replay/replay.ts';
export { replay } from './replay/replay.ts';
export type { SqliteEventStoreOptions, SqliteStoreCommonOptions } from './sqlite/index.ts';
export { createSqliteEventStore } from './sqlite/index.ts';
export type { EventPublisher, EventSink, PartitionBy, SinkItem, TopicSinkOptions } from './topic-sink.ts';
export { NoTopicError } from './topic-sink.ts';
