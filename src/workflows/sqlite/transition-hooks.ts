import type { AppendHook, StoreTransaction } from '../../store/event-store.ts';
import type { InstanceInsert, InstanceWrite } from '../backend.ts';
import { LeaseLostError, WorkflowInstanceIdTakenError } from '../errors.ts';
import { INSERT_INSTANCE, insertInstanceParams } from './sql/insert-instance.ts';
import {
  ADD_WAIT,
  CLEAR_ENDED,
  CLEAR_WAITS,
  DELETE_CONSUMED,
  WRITE_TRANSITION,
  writeTransitionParams,
} from './sql/write-transition.ts';

const isTakenId = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

function checkDialect(transaction: StoreTransaction): void {
  if (transaction.dialect !== 'sqlite') {
    throw new TypeError(
      `the SQLite workflow backend was given a ${transaction.dialect} event store: use one database for both`,
    );
  }
}

/** Hook inserting a new instance's row in the store's append transaction (WorkflowInstanceIdTakenError when taken). */
export function insertInstanceHook(row: InstanceInsert): AppendHook {
  return async ({ transaction }) => {
    checkDialect(transaction);
    try {
      await transaction.query(INSERT_INSTANCE, [insertInstanceParams(row)]);
    } catch (error) {
      if (isTakenId(error)) throw new WorkflowInstanceIdTakenError(row.instanceId, row.workflowId);
      throw error;
    }
  };
}

/** Hook writing a transition's row, inbox and waits in the store's append transaction, fenced by the lease. */
export function writeTransitionHook(write: InstanceWrite, out: { inboxVersion: number }): AppendHook {
  return async ({ transaction }) => {
    checkDialect(transaction);
    const rows = await transaction.query<{ inbox_version: number }>(WRITE_TRANSITION, [
      writeTransitionParams(write),
    ]);
    if (rows.length === 0) throw new LeaseLostError(write.instanceId, write.lease.owner, write.lease.epoch);
    out.inboxVersion = Number(rows[0]!.inbox_version);
    if (write.consumed.length > 0) {
      await transaction.query(DELETE_CONSUMED, [write.instanceId, JSON.stringify(write.consumed)]);
    }
    if (write.endedAt !== null) {
      for (const statement of CLEAR_ENDED) await transaction.query(statement, [write.instanceId]);
    } else if (write.waitKey !== undefined) {
      await transaction.query(CLEAR_WAITS, [write.instanceId, write.waitKey]);
      if (write.waitKey !== null)
        await transaction.query(ADD_WAIT, [write.waitKey, write.instanceId, write.now]);
    }
  };
}
