import { StreamDeletedError, TenantMismatchError, WrongExpectedVersionError } from '../errors.ts';
import { type AppendHook, type AppendResult, DEFAULT_TENANT } from '../event-store.ts';
import { satisfiesExpectedVersion } from '../expected-version.ts';
import type { PreparedAppend } from '../prepare-append.ts';
import type { StoreCore } from '../store-handle.ts';
import { type BatchWriter, createBatchWriter, isIdRace } from './batch-writer.ts';
import { createGroupCommit } from './group-commit.ts';
import { type PostgresContext, run, storeTransactionOf } from './postgres-context.ts';
import { streamStateStatement } from './sql/read-stream.ts';

/** An append of no events: checks the stream's owner, tombstone and expected version, writes nothing. */
function createEmptyAppend(ctx: PostgresContext): (append: PreparedAppend) => Promise<AppendResult> {
  const text = streamStateStatement(ctx.schema);
  return async (append) => {
    const [row] = await run<[string, string, number | null]>(ctx.sql, text, [append.streamId]);
    const tenantId = append.tenantId ?? row?.[0] ?? DEFAULT_TENANT;
    if (row !== undefined && row[0] !== tenantId) {
      throw new TenantMismatchError(append.streamId, tenantId, 'the stream belongs to another tenant');
    }
    const version = row === undefined ? 0 : Number(row[1]);
    if (row?.[2] != null && append.expected !== 'no_stream') {
      throw new StreamDeletedError(append.streamId, version, new Date(row[2]));
    }
    if (row?.[2] == null && !satisfiesExpectedVersion(append.expected, version)) {
      throw new WrongExpectedVersionError(append.streamId, append.expected, version);
    }
    return { streamId: append.streamId, tenantId, nextExpectedVersion: version, events: [], duplicates: [] };
  };
}

/** An append with hooks: its own transaction, the batch statement with one append, then the hook. */
function createHookedAppend(
  ctx: PostgresContext,
  writeBatch: BatchWriter,
): (append: PreparedAppend, hook: AppendHook) => Promise<AppendResult> {
  return async (append, hook) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = (await ctx.sql.begin(async (tx) => {
          // After an id race the transaction starts again, this time looking the ids up.
          const [outcome] = await writeBatch(tx, [append], attempt > 1);
          if (outcome instanceof Error) throw outcome;
          const { result, written } = outcome!;
          if (written.length > 0) {
            await hook({
              streamId: result.streamId,
              tenantId: result.tenantId,
              events: written,
              streamVersion: result.nextExpectedVersion,
              transaction: storeTransactionOf(tx, ctx.schema),
            });
          }
          return { result, wrote: written.length > 0 };
        })) as { result: AppendResult; wrote: boolean };
        if (result.wrote) ctx.wake();
        return result.result;
      } catch (error) {
        if (isIdRace(error) && attempt < 3) continue;
        throw error;
      }
    }
  };
}

/**
 * The store's append: nothing to write is only checked, an append with hooks gets its own transaction,
 * any other joins group commit (one statement for the appends queued meanwhile).
 */
export function createPostgresAppend(ctx: PostgresContext, maxInFlight: number): StoreCore['append'] {
  const writeBatch = createBatchWriter(ctx.schema, ctx.decodeAsWritten);
  const appendNothing = createEmptyAppend(ctx);
  const appendWithHook = createHookedAppend(ctx, writeBatch);
  const enqueue = createGroupCommit({ sql: ctx.sql, writeBatch, maxInFlight, wake: ctx.wake });
  return async (append, hook) => {
    await ctx.ready();
    if (append.events.length === 0) return appendNothing(append);
    if (hook !== undefined) return appendWithHook(append, hook);
    return enqueue(append);
  };
}
