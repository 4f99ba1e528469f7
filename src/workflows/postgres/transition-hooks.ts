import type { AppendHook, StoreTransaction } from '../../store/event-store.ts';
import type { InstanceInsert, InstanceWrite } from '../backend.ts';
import { LeaseLostError, WorkflowInstanceIdTakenError } from '../errors.ts';
import { insertInstanceParams } from './sql/insert-instance.ts';
import { writeTransitionParams } from './sql/write-transition.ts';

const UNIQUE_VIOLATION = '23505';

function checkDialect(transaction: StoreTransaction): void {
  if (transaction.dialect !== 'postgres') {
    throw new TypeError(
      `the PostgreSQL workflow backend was given a ${transaction.dialect} event store: use one database for both`,
    );
  }
}

/** Statement texts the hooks run, in the backend's schema. */
export interface HookStatements {
  insert: string;
  write: string;
  deleteConsumed: string;
  replaceWait: string;
  clearEnded: string;
}

/** Hook inserting a new instance's row in the store's append transaction (WorkflowInstanceIdTakenError when taken). */
export function insertInstanceHook(text: HookStatements, row: InstanceInsert): AppendHook {
  return async ({ transaction }) => {
    checkDialect(transaction);
    try {
      await transaction.query(text.insert, insertInstanceParams(row));
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new WorkflowInstanceIdTakenError(row.instanceId, row.workflowId);
      }
      throw error;
    }
  };
}

/** Hook writing a transition's row, inbox and waits in the store's append transaction, fenced by the lease. */
export function writeTransitionHook(
  text: HookStatements,
  write: InstanceWrite,
  out: { inboxVersion: number },
): AppendHook {
  return async ({ transaction }) => {
    checkDialect(transaction);
    const rows = await transaction.query<{ inbox_version: string }>(text.write, writeTransitionParams(write));
    if (rows.length === 0) throw new LeaseLostError(write.instanceId, write.lease.owner, write.lease.epoch);
    out.inboxVersion = Number(rows[0]!.inbox_version);
    if (write.consumed.length > 0) {
      await transaction.query(text.deleteConsumed, [write.instanceId, write.consumed.map(String)]);
    }
    if (write.endedAt !== null) await transaction.query(text.clearEnded, [write.instanceId]);
    else if (write.waitKey !== undefined) {
      await transaction.query(text.replaceWait, [write.instanceId, write.waitKey, write.now]);
    }
  };
}
