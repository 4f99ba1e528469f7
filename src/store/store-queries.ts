import { InvalidAppendError } from './errors.ts';
import type {
  ArchiveOptions,
  ArchiveReport,
  EventFilter,
  ExpectedVersion,
  ListStreamsOptions,
  ReadAllOptions,
  ReadStreamOptions,
  SnapshotInput,
} from './event-store.ts';
import { isExpectedVersion } from './expected-version.ts';

/** Read-stream options with their defaults applied and checked. */
export interface StreamQuery {
  direction: 'forwards' | 'backwards';
  /** First version read; undefined backwards means the stream's last version. */
  fromVersion: number | undefined;
  /** Most events; undefined is all. */
  maxCount: number | undefined;
  /** Only a stream owned by this tenant is visible; undefined sees every stream. */
  tenantId: string | undefined;
  /** Forwards from the snapshot: read it too and start after it. */
  snapshot: { name: string; stateVersion: number } | undefined;
}

/** Read-all options with defaults applied and checked. */
export interface AllQuery extends Omit<ReadAllOptions, 'maxCount'> {
  maxCount: number;
}

/** Archive options with the tenant scope applied. */
export type ArchiveQuery = ArchiveOptions & { batchSize: number };

/** List-streams options with the default page size applied and checked. */
export interface StreamListQuery extends Omit<ListStreamsOptions, 'maxCount'> {
  maxCount: number;
}

/** Default page size of `listStreams`. */
export const DEFAULT_LIST_STREAMS_COUNT = 100;

/** Checks list-streams options and applies the default page size. */
export function streamListQuery(options: ListStreamsOptions): StreamListQuery {
  const maxCount = positiveCount('listStreams', options.maxCount) ?? DEFAULT_LIST_STREAMS_COUNT;
  if (options.types !== undefined && !Array.isArray(options.types)) {
    throw new TypeError('listStreams: types must be an array of event types');
  }
  return { ...options, maxCount };
}

/** Default page size of `readAll`. */
export const DEFAULT_READ_ALL_COUNT = 1000;

/** Default number of events per archive batch (transaction). */
const DEFAULT_ARCHIVE_BATCH = 1000;

const positiveCount = (what: string, value: number | undefined): number | undefined => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new TypeError(`${what}: maxCount must be an integer ≥ 0, got ${value}`);
  }
  return value;
};

/** Checks read-stream options and applies their defaults and the handle's tenant scope. */
export function streamQuery(options: ReadStreamOptions, tenantId: string | undefined): StreamQuery {
  const direction = options.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards') {
    throw new TypeError(`readStream: direction must be 'forwards' or 'backwards', got ${String(direction)}`);
  }
  const { fromVersion } = options;
  if (fromVersion !== undefined && (!Number.isSafeInteger(fromVersion) || fromVersion < 0)) {
    throw new TypeError(`readStream: fromVersion must be an integer ≥ 0, got ${fromVersion}`);
  }
  const { snapshot } = options;
  if (
    snapshot !== undefined &&
    (typeof snapshot.name !== 'string' ||
      snapshot.name === '' ||
      !Number.isSafeInteger(snapshot.stateVersion))
  ) {
    throw new TypeError('readStream: snapshot needs a name and an integer stateVersion');
  }
  const withSnapshot = snapshot !== undefined && direction === 'forwards' && fromVersion === undefined;
  return {
    direction,
    fromVersion,
    maxCount: positiveCount('readStream', options.maxCount),
    tenantId,
    snapshot: withSnapshot ? snapshot : undefined,
  };
}

/** Checks the dates, types and position of an event filter. */
export function checkFilter(operation: string, options: EventFilter): void {
  for (const key of ['since', 'until'] as const) {
    const value = options[key];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new TypeError(`${operation}: ${key} must be a valid Date`);
    }
  }
  if (options.types !== undefined && !Array.isArray(options.types)) {
    throw new TypeError(`${operation}: types must be an array of event types`);
  }
  if (options.fromPosition !== undefined && typeof options.fromPosition !== 'bigint') {
    throw new TypeError(`${operation}: fromPosition must be a bigint`);
  }
}

/** Checks read-all options and applies the default page size. */
export function allQuery(options: ReadAllOptions): AllQuery {
  const maxCount = positiveCount('readAll', options.maxCount) ?? DEFAULT_READ_ALL_COUNT;
  checkFilter('readAll', options);
  return { ...options, maxCount };
}

/** Applies a handle's tenant scope to a filter; undefined when the filter names another tenant (nothing matches). */
export function scoped<F extends EventFilter>(filter: F, scope: string | undefined): F | undefined {
  if (scope === undefined) return filter;
  if (filter.tenantId !== undefined && filter.tenantId !== scope) return undefined;
  return { ...filter, tenantId: scope };
}

/** Refuses an empty or non-string stream id. */
export function checkStreamId(operation: string, streamId: string): void {
  if (typeof streamId !== 'string' || streamId === '') {
    throw new TypeError(`${operation}: streamId must be a non-empty string`);
  }
}

/** The expected version of a stream deletion (default `stream_exists`), checked. */
export function deletionExpected(streamId: string, expected: ExpectedVersion | undefined): ExpectedVersion {
  const checked = expected ?? 'stream_exists';
  if (!isExpectedVersion(checked)) {
    throw new InvalidAppendError(
      streamId,
      `expectedVersion must be 'any', 'no_stream', 'stream_exists' or an integer ≥ 0`,
    );
  }
  return checked;
}

/** Checks a snapshot to write: stream id, name, and versions. */
export function checkSnapshotInput(snapshot: SnapshotInput): void {
  checkStreamId('writeSnapshot', snapshot.streamId);
  if (typeof snapshot.name !== 'string' || snapshot.name === '') {
    throw new TypeError('writeSnapshot: name must be a non-empty string');
  }
  for (const key of ['streamVersion', 'stateVersion'] as const) {
    if (!Number.isSafeInteger(snapshot[key]) || snapshot[key] < 0) {
      throw new TypeError(`writeSnapshot: ${key} must be an integer ≥ 0, got ${snapshot[key]}`);
    }
  }
}

/** Checks archive options and applies the batch size and the scope; undefined when the scope excludes everything. */
export function archiveQuery(options: ArchiveOptions, scope: string | undefined): ArchiveQuery | undefined {
  if (!(options.before instanceof Date) || Number.isNaN(options.before.getTime())) {
    throw new TypeError('archive: before must be a valid Date');
  }
  if (typeof options.write !== 'function') throw new TypeError('archive: write must be a function');
  const batchSize = options.batchSize ?? DEFAULT_ARCHIVE_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new TypeError(`archive: batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  const query = scoped(options, scope);
  return query === undefined ? undefined : { ...query, batchSize };
}

/** The report of an archive run that archived nothing. */
export function emptyArchiveReport(before: Date): ArchiveReport {
  return { before, exported: 0, removed: 0, firstPosition: undefined, lastPosition: undefined, batches: 0 };
}
