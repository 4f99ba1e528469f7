import { WrongExpectedVersionError } from '../errors.ts';
import { DEFAULT_TENANT } from '../event-store.ts';
import type { PreparedAppend } from '../prepare-append.ts';
import type { EventDecoder } from '../stored-event-codec.ts';
import { type AppendOutcome, appendOutcomes } from './append-outcomes.ts';
import { type Runner, run } from './postgres-context.ts';
import { type AppendBatchRow, appendBatchParameters, appendBatchStatement } from './sql/append-batch.ts';

const UNIQUE_VIOLATION = '23505';
const EVENT_ID_KEY = 'store_events_event_id_key';

/** Writes appends to distinct streams (sorted by stream id) with one call of the batch append function. */
export type BatchWriter = (
  runner: Runner,
  appends: readonly PreparedAppend[],
  checkIds?: boolean,
) => Promise<AppendOutcome[]>;

/** True for the unique-key violation of an event id another append stored meanwhile. */
export function isIdRace(error: unknown): boolean {
  const { code, constraint_name: constraint } = error as { code?: string; constraint_name?: string };
  return code === UNIQUE_VIOLATION && constraint === EVENT_ID_KEY;
}

/**
 * The batch writer of a schema. It runs the statement first unchecked (no lookup of the ids: the unique
 * key catches a stored one), then, for the appends it refused on their expected version, checked: such a
 * refusal may be a retry of an append that committed, which is answered from the stored rows instead.
 */
export function createBatchWriter(schema: string, decodeAsWritten: EventDecoder): BatchWriter {
  const text = appendBatchStatement(schema);
  const writeBatch: BatchWriter = async (runner, appends, checkIds = false) => {
    const rows = await run<AppendBatchRow>(
      runner,
      text,
      appendBatchParameters(appends, DEFAULT_TENANT, checkIds),
    );
    const outcomes = appendOutcomes(appends, rows, decodeAsWritten);
    if (checkIds) return outcomes;
    const again = appends.filter((_, i) => outcomes[i] instanceof WrongExpectedVersionError);
    if (again.length === 0) return outcomes;
    const rechecked = await writeBatch(runner, again, true);
    return outcomes.map((outcome) =>
      outcome instanceof WrongExpectedVersionError ? rechecked.shift()! : outcome,
    );
  };
  return writeBatch;
}
