import {
  DuplicateEventIdError,
  StreamDeletedError,
  TenantMismatchError,
  WrongExpectedVersionError,
} from '../errors.ts';
import { type AppendResult, DEFAULT_TENANT, type StoredEvent } from '../event-store.ts';
import type { PreparedAppend } from '../prepare-append.ts';
import type { EventDecoder } from '../stored-event-codec.ts';
import type { AppendBatchRow } from './sql/append-batch.ts';

/** One append's outcome in a batch statement: its result and the events it wrote, or its refusal. */
export type AppendOutcome = { result: AppendResult; written: StoredEvent[] } | Error;

/** The refusal of one append in a batch (a Keel SQLSTATE and its detail), as a typed error. */
export function refusalError(append: PreparedAppend, code: string, detail: string | null): Error {
  switch (code) {
    case 'KE001':
      return new WrongExpectedVersionError(append.streamId, append.expected, Number(detail));
    case 'KE002':
      return new TenantMismatchError(
        append.streamId,
        append.tenantId ?? DEFAULT_TENANT,
        'the stream belongs to another tenant',
      );
    case 'KE003':
      return new DuplicateEventIdError(String(detail), append.streamId);
    default: {
      const [version, ms] = String(detail).split(':');
      return new StreamDeletedError(append.streamId, Number(version), new Date(Number(ms)));
    }
  }
}

/** The result of one accepted append from its rows; events stored before (a retry) decode as written. */
function acceptedOutcome(
  append: PreparedAppend,
  groupRows: readonly AppendBatchRow[],
  decodeAsWritten: EventDecoder,
): AppendOutcome {
  const given = new Map(append.events.map((e) => [e.id, e]));
  const byId = new Map<string, StoredEvent>();
  const written: StoredEvent[] = [];
  const duplicateIds = new Set<string>();
  let tenantId = append.tenantId ?? DEFAULT_TENANT;
  let streamVersion = 0;
  for (const row of groupRows) {
    const [
      ,
      ,
      ,
      tenant,
      version,
      eventId,
      position,
      eventVersion,
      recordedAtMs,
      transactionId,
      duplicate,
      json,
    ] = row;
    tenantId = tenant!;
    streamVersion = Number(version);
    const stored: StoredEvent = {
      event: duplicate ? decodeAsWritten(json!) : given.get(eventId!)!.event,
      streamId: append.streamId,
      version: Number(eventVersion),
      position: BigInt(position!),
      tenantId: tenant!,
      recordedAt: new Date(recordedAtMs!),
      checkpoint: `${transactionId}:${position}`,
    };
    byId.set(eventId!, stored);
    if (duplicate) duplicateIds.add(eventId!);
    else written.push(stored);
  }
  written.sort((a, b) => a.version - b.version);
  const events = append.events.map((e) => byId.get(e.id)!);
  const nextExpectedVersion =
    written.length === 0 ? Math.max(...events.map((e) => e.version)) : streamVersion;
  return {
    result: {
      streamId: append.streamId,
      tenantId,
      nextExpectedVersion,
      events,
      duplicates: append.events.filter((e) => duplicateIds.has(e.id)).map((e) => e.id),
    },
    written,
  };
}

/** Each append's result (or refusal) from a batch statement's rows, in the order of `appends`. */
export function appendOutcomes(
  appends: readonly PreparedAppend[],
  rows: readonly AppendBatchRow[],
  decodeAsWritten: EventDecoder,
): AppendOutcome[] {
  const byGroup = appends.map(() => [] as AppendBatchRow[]);
  for (const row of rows) byGroup[row[0] - 1]!.push(row);
  return appends.map((append, index) => {
    const groupRows = byGroup[index]!;
    const refused = groupRows.find((row) => row[1] !== null);
    if (refused !== undefined) return refusalError(append, refused[1]!, refused[2]);
    return acceptedOutcome(append, groupRows, decodeAsWritten);
  });
}
