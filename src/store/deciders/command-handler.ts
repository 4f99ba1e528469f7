import { ExponentialBackoff, handleType, retry } from 'cockatiel';
import type { Logger } from 'pino';
import type { Catalog } from '../../events/catalog.ts';
import { type CloudEvent, SPEC_VERSION } from '../../events/cloud-event.ts';
import { createEvent } from '../../events/create-event.ts';
import { newEventId } from '../../events/event-id.ts';
import { WrongExpectedVersionError } from '../errors.ts';
import type { EventStore, ExpectedVersion, StoredEvent } from '../event-store.ts';
import { type Decider, type DomainEvent, decisionEvents } from './decider.ts';

/** When to snapshot an aggregate type, and how its state is stored. */
export interface SnapshotPolicy<State> {
  /**
   * Version of the state's shape: bump it whenever the state (or `toSnapshot`) changes shape, and
   * snapshots written by an older version are ignored (the state is folded from the events again).
   */
  version: number;
  /** A snapshot is written each time the stream crosses a multiple of this many events; default 100. */
  every?: number;
  /** The state as JSON; default the state itself (which must then be plain JSON). */
  toSnapshot?(state: State): unknown;
  /** The state from its JSON; default the JSON itself. */
  fromSnapshot?(snapshot: unknown): State;
}

/** What turning a decided event into a CloudEvent may use. */
export interface EventContext<Command> {
  command: Command;
  streamId: string;
  /** Tenant of the call (`handle`'s option), if named. */
  tenantId: string | undefined;
  correlationId: string | undefined;
  causationId: string | undefined;
}

/** Retries of a command whose append met a concurrent one (WrongExpectedVersionError). */
export interface CommandRetryOptions {
  /** Attempts in all, the first included; default 5. */
  maxAttempts?: number;
  /** Milliseconds before the second attempt; later waits grow exponentially with jitter; default 5. */
  initialDelayMs?: number;
  /** Longest wait between attempts, in milliseconds; default 250. */
  maxDelayMs?: number;
}

/** How to build a command handler for one aggregate type. */
export interface CommandHandlerOptions<Command, Event extends DomainEvent, State> {
  store: EventStore;
  decider: Decider<Command, Event, State>;
  /** Aggregate type: names its snapshots (one stream may hold several aggregates' snapshots). */
  aggregateType: string;
  /** The stream a command is about. */
  streamId(command: Command): string;
  /** CloudEvents `source` of the events this handler appends, e.g. `urn:keel:patients`. */
  source: string;
  /**
   * Event definitions: a decided event whose type is here is built with `createEvent` (its data validated,
   * `dataschema` and partition key set); others become plain JSON CloudEvents.
   */
  catalog?: Catalog;
  /** Builds the CloudEvent of a decided event instead (then `source` and `catalog` are not used). */
  toCloudEvent?(event: Event, context: EventContext<Command>): CloudEvent;
  /** Snapshots of this aggregate type; none without it. */
  snapshot?: SnapshotPolicy<State>;
  retry?: CommandRetryOptions;
  /** Told when a snapshot cannot be written (it is an optimisation: the command still succeeds). */
  logger?: Logger;
}

/** Per-call options of `handle`. */
export interface HandleCommandOptions {
  /** Tenant the command runs as: the stream, its events and its snapshots are this tenant's. */
  tenantId?: string;
  /** `correlationid` of the appended events. */
  correlationId?: string;
  /** `causationid` of the appended events (e.g. the id of the event or request that caused the command). */
  causationId?: string;
  /**
   * The stream version the caller decided against (e.g. shown to a user): a conflict is then the
   * caller's to resolve, so it is thrown at once instead of retried.
   */
  expectedVersion?: number;
}

/** An aggregate as loaded: its state and the version it was folded to. */
export interface LoadedAggregate<State> {
  state: State;
  /** Stream version of the last event folded in; 0 for a stream with no events. */
  version: number;
  /** Stream version of the snapshot the load started from; undefined when it folded from the first event. */
  snapshotVersion: number | undefined;
}

/** What handling a command did. */
export interface CommandResult<Event extends DomainEvent, State> {
  streamId: string;
  /** The state after the new events. */
  state: State;
  /** Stream version after the append (pass it as `expectedVersion` next). */
  version: number;
  /** The events decided, as domain events. */
  newEvents: readonly Event[];
  /** The events as stored. */
  events: readonly StoredEvent[];
  /** Attempts it took: 1, or more after conflicts with concurrent commands. */
  attempts: number;
}

/** Loads, decides and appends commands of one aggregate type. */
export interface CommandHandler<Command, Event extends DomainEvent, State> {
  /**
   * Loads the aggregate (snapshot + tail), decides, and appends the events expecting the version it
   * loaded; on WrongExpectedVersionError it loads and decides again (bounded, with jittered backoff).
   * A decision's error is thrown as is. Throws StreamDeletedError for a deleted stream.
   */
  handle(command: Command, options?: HandleCommandOptions): Promise<CommandResult<Event, State>>;
  /** Loads an aggregate: its latest snapshot at the policy's state version, then the events after it. */
  load(streamId: string, options?: { tenantId?: string }): Promise<LoadedAggregate<State>>;
}

/** Default number of events between snapshots. */
export const DEFAULT_SNAPSHOT_EVERY = 100;

/**
 * A command handler for one aggregate type: the load-decide-append loop around a decider, with
 * optimistic concurrency (the append expects the loaded version), retries on conflict and snapshots.
 */
export function createCommandHandler<Command, Event extends DomainEvent, State>(
  options: CommandHandlerOptions<Command, Event, State>,
): CommandHandler<Command, Event, State> {
  const { store, decider, aggregateType, snapshot } = options;
  if (typeof aggregateType !== 'string' || aggregateType === '') {
    throw new TypeError('createCommandHandler: aggregateType must be a non-empty string');
  }
  const every = snapshot?.every ?? DEFAULT_SNAPSHOT_EVERY;
  if (
    snapshot !== undefined &&
    (!Number.isSafeInteger(snapshot.version) || !Number.isSafeInteger(every) || every < 1)
  ) {
    throw new TypeError('createCommandHandler: snapshot needs an integer version and an integer every ≥ 1');
  }
  const maxAttempts = options.retry?.maxAttempts ?? 5;
  const conflicts = retry(handleType(WrongExpectedVersionError), {
    maxAttempts: Math.max(0, maxAttempts - 1),
    backoff: new ExponentialBackoff({
      initialDelay: options.retry?.initialDelayMs ?? 5,
      maxDelay: options.retry?.maxDelayMs ?? 250,
    }),
  });
  const toSnapshot = snapshot?.toSnapshot ?? ((state: State) => state as unknown);
  const fromSnapshot = snapshot?.fromSnapshot ?? ((json: unknown) => json as State);

  const storeFor = (tenantId: string | undefined) =>
    tenantId === undefined ? store : store.forTenant(tenantId);
  const toDomain = (event: CloudEvent): Event => ({ type: event.type, data: event.data }) as Event;

  const toCloudEvent =
    options.toCloudEvent ??
    ((event: Event, context: EventContext<Command>): CloudEvent => {
      const definition = options.catalog?.event(event.type);
      const envelope = {
        source: options.source,
        tenantId: context.tenantId,
        correlationId: context.correlationId,
        causationId: context.causationId,
      };
      if (definition !== undefined) return createEvent(definition, event.data as never, envelope);
      return {
        specversion: SPEC_VERSION,
        id: newEventId(),
        source: options.source,
        type: event.type,
        time: new Date().toISOString(),
        subject: context.streamId,
        datacontenttype: 'application/json',
        data: event.data,
        ...(context.tenantId === undefined ? {} : { tenantid: context.tenantId }),
        ...(context.correlationId === undefined ? {} : { correlationid: context.correlationId }),
        ...(context.causationId === undefined ? {} : { causationid: context.causationId }),
      };
    });

  const load = async (streamId: string, tenantId: string | undefined): Promise<LoadedAggregate<State>> => {
    const page = await storeFor(tenantId).readStream(
      streamId,
      snapshot === undefined ? {} : { snapshot: { name: aggregateType, stateVersion: snapshot.version } },
    );
    let state = page.snapshot === undefined ? decider.initialState() : fromSnapshot(page.snapshot.state);
    let version = page.snapshot?.streamVersion ?? 0;
    for (const stored of page.events) {
      state = decider.evolve(state, toDomain(stored.event));
      version = stored.version;
    }
    // A stream re-created after a deletion starts past its old versions with the initial state.
    if (page.events.length === 0 && page.snapshot === undefined) version = page.streamVersion;
    return { state, version, snapshotVersion: page.snapshot?.streamVersion };
  };

  const attempt = async (
    command: Command,
    handleOptions: HandleCommandOptions,
    attempts: number,
  ): Promise<CommandResult<Event, State>> => {
    const streamId = options.streamId(command);
    const target = storeFor(handleOptions.tenantId);
    const loaded = await load(streamId, handleOptions.tenantId);
    if (handleOptions.expectedVersion !== undefined && handleOptions.expectedVersion !== loaded.version) {
      throw new WrongExpectedVersionError(streamId, handleOptions.expectedVersion, loaded.version);
    }
    const newEvents = decisionEvents(decider.decide(command, loaded.state));
    if (newEvents.length === 0) {
      return { streamId, state: loaded.state, version: loaded.version, newEvents, events: [], attempts };
    }
    const context: EventContext<Command> = {
      command,
      streamId,
      tenantId: handleOptions.tenantId,
      correlationId: handleOptions.correlationId,
      causationId: handleOptions.causationId,
    };
    const cloudEvents = newEvents.map((event) => toCloudEvent(event, context));
    const expectedVersion: ExpectedVersion = loaded.version === 0 ? 'no_stream' : loaded.version;
    const appended = await target.append(streamId, cloudEvents, { expectedVersion });
    let state = loaded.state;
    for (const stored of appended.events) state = decider.evolve(state, toDomain(stored.event));
    const version = appended.nextExpectedVersion;
    if (snapshot !== undefined && Math.floor(version / every) > Math.floor(loaded.version / every)) {
      await target
        .writeSnapshot({
          streamId,
          name: aggregateType,
          streamVersion: version,
          stateVersion: snapshot.version,
          state: toSnapshot(state),
        })
        .catch((error: unknown) =>
          options.logger?.warn({ err: error, streamId, aggregateType }, 'snapshot not written'),
        );
    }
    return {
      streamId,
      state,
      version,
      newEvents: appended.events.map((e) => toDomain(e.event)),
      events: appended.events,
      attempts,
    };
  };

  return {
    async handle(command, handleOptions = {}) {
      // A caller's own expected version is theirs to resolve: no retry then.
      if (handleOptions.expectedVersion !== undefined) return attempt(command, handleOptions, 1);
      return conflicts.execute(({ attempt: n }) => attempt(command, handleOptions, n + 1));
    },
    load: (streamId, loadOptions = {}) => load(streamId, loadOptions.tenantId),
  };
}
