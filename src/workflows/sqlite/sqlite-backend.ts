import type { Database } from 'better-sqlite3';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import type { AppendHook, StoreTransaction } from '../../store/event-store.ts';
import type { InstanceQuery, StatusCount, WorkflowBackend } from '../backend.ts';
import { LeaseLostError, WorkflowInstanceIdTakenError } from '../errors.ts';
import type { WorkflowStatus } from '../instance-state.ts';
import type { InboxItem } from '../planner.ts';
import { migrateSqliteWorkflows } from './schema.ts';
import { CLAIM, type SqliteClaimRow } from './sql/claim.ts';
import { FIND_WAIT, INSERT_INBOX, TOUCH_FOR_INBOX } from './sql/deliver.ts';
import { INSERT_INSTANCE, insertInstanceParams } from './sql/insert-instance.ts';
import { type SqliteInstanceRow, toInstanceRow } from './sql/instance-row.ts';
import { COUNT_ACTIVE, GET_INSTANCE, listInstances } from './sql/list-instances.ts';
import { DISCARD_INBOX, READ_INBOX, type SqliteInboxRow } from './sql/read-inbox.ts';
import { RELEASE } from './sql/release.ts';
import { RENEW, type SqliteRenewRow } from './sql/renew.ts';
import {
  ADD_WAIT,
  CLEAR_ENDED,
  CLEAR_WAITS,
  DELETE_CONSUMED,
  WRITE_TRANSITION,
  writeTransitionParams,
} from './sql/write-transition.ts';

/** How to open the workflow tables on SQLite. */
export interface SqliteWorkflowBackendOptions {
  /** The event store's SQLite file: the backend opens its own connection to it. */
  path: string;
  /** `full` (default) fsyncs every commit; `normal` survives process crashes only. */
  synchronous?: 'normal' | 'full';
  /**
   * Milliseconds a write on the backend's connection keeps retrying while another connection holds the
   * write lock (the store's append, another process); default 10 000.
   */
  busyRetryMs?: number;
}

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
};

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

/**
 * The workflow tables in the event store's SQLite file (migrated when opened), for one engine process. Transition writes run in
 * the store's append transaction (on the store's connection); claims, renewals, the inbox and reads run
 * on the backend's own connection, which never waits for the write lock synchronously: it is opened with
 * no busy timeout and retries after an asynchronous pause, so an append holding the lock across awaits
 * (its hooks) in this very process always gets to commit.
 */
export function createSqliteWorkflowBackend(options: SqliteWorkflowBackendOptions): WorkflowBackend {
  // Migrating at open may meet another connection's write: wait for it there, where nothing of ours holds
  // a transaction open, and never again afterwards (see below).
  const db: Database = openSqlite({
    path: options.path,
    synchronous: options.synchronous,
    prepare: migrateSqliteWorkflows,
  });
  db.pragma('busy_timeout = 0');
  const busyRetryMs = options.busyRetryMs ?? 10_000;

  /** Runs a synchronous unit of work, retrying it (asynchronously) while the write lock is taken. */
  const retrying = async <T>(work: () => T): Promise<T> => {
    const deadline = Date.now() + busyRetryMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 25)) {
      try {
        return work();
      } catch (error) {
        if (!isBusy(error) || Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };

  const claimRows = db.prepare<[Record<string, unknown>], SqliteClaimRow>(CLAIM);
  const renewRows = db.prepare<[Record<string, unknown>], SqliteRenewRow>(RENEW);
  const releaseRow = db.prepare<[Record<string, unknown>], { inbox_version: number }>(RELEASE);
  const inboxRows = db.prepare<[string], SqliteInboxRow>(READ_INBOX);
  const discard = db.prepare<[string]>(DISCARD_INBOX);
  const touch = db.prepare<[Record<string, unknown>], { instance_id: string }>(TOUCH_FOR_INBOX);
  const insertInbox = db.prepare<[Record<string, unknown>]>(INSERT_INBOX);
  const findWait = db.prepare<[string], { instance_id: string }>(FIND_WAIT);
  const getInstance = db.prepare<[string], SqliteInstanceRow>(GET_INSTANCE);
  const countActive = db.prepare<[], { workflow_id: string; status: string; count: number }>(COUNT_ACTIVE);

  const deliverNow = db.transaction(
    (instanceId: string, kind: string, name: string, payload: unknown, now: number): boolean => {
      if (touch.all({ instanceId, kind, now }).length === 0) return false;
      insertInbox.run({ instanceId, kind, name, payload: JSON.stringify(payload ?? null), now });
      return true;
    },
  );

  const deliverReplyNow = db.transaction(
    (key: string, reply: CloudEvent, now: number): string | undefined => {
      const wait = findWait.get(key);
      if (wait === undefined) return undefined;
      return deliverNow(wait.instance_id, 'reply', key, reply, now) ? wait.instance_id : undefined;
    },
  );

  const backend: WorkflowBackend = {
    dialect: 'sqlite',

    // Migrated when opened: the statements below are prepared on the tables.
    async migrate() {},

    insertHook(row): AppendHook {
      return async ({ transaction }) => {
        checkDialect(transaction);
        try {
          await transaction.query(INSERT_INSTANCE, [insertInstanceParams(row)]);
        } catch (error) {
          if (isTakenId(error)) throw new WorkflowInstanceIdTakenError(row.instanceId, row.workflowId);
          throw error;
        }
      };
    },

    writeHook(write, out): AppendHook {
      return async ({ transaction }) => {
        checkDialect(transaction);
        const rows = await transaction.query<{ inbox_version: number }>(WRITE_TRANSITION, [
          writeTransitionParams(write),
        ]);
        if (rows.length === 0)
          throw new LeaseLostError(write.instanceId, write.lease.owner, write.lease.epoch);
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
    },

    async release(write) {
      const rows = await retrying(() => releaseRow.all(writeTransitionParams(write)));
      return rows.length > 0;
    },

    async claim(owner, definitions, now, leaseUntil, limit) {
      if (definitions.length === 0 || limit <= 0) return [];
      const rows = await retrying(() =>
        claimRows.all({ owner, until: leaseUntil, now, definitions: JSON.stringify(definitions), limit }),
      );
      return rows.map((row) => ({
        instanceId: row.instance_id,
        workflowId: row.workflow_id,
        workflowVersion: row.workflow_version,
        tenantId: row.tenant_id,
        streamId: row.stream_id,
        lease: { owner, epoch: row.lease_epoch },
        inboxVersion: row.inbox_version,
        inboxSeen: row.inbox_seen,
      }));
    },

    async renew(owner, instanceIds, leaseUntil) {
      const rows =
        instanceIds.length === 0
          ? []
          : await retrying(() =>
              renewRows.all({ owner, until: leaseUntil, ids: JSON.stringify(instanceIds) }),
            );
      return {
        held: new Map(rows.map((row) => [row.instance_id, row.lease_epoch])),
        cancelRequested: new Set(
          rows.filter((row) => row.cancel_requested === 1).map((row) => row.instance_id),
        ),
      };
    },

    async readInbox(instanceId) {
      const rows = inboxRows.all(instanceId);
      const items: InboxItem[] = [];
      for (const row of rows) {
        if (row.id === null) continue;
        items.push({
          id: row.id,
          kind: row.kind as InboxItem['kind'],
          name: row.name ?? '',
          payload: row.payload === null ? null : JSON.parse(row.payload),
        });
      }
      return { items, version: rows[0]?.inbox_version ?? 0 };
    },

    async discardInbox(ids) {
      if (ids.length === 0) return;
      await retrying(() => discard.run(JSON.stringify(ids)));
    },

    async deliver(instanceId, kind, name, payload, now) {
      return retrying(() => deliverNow.immediate(instanceId, kind, name, payload, now));
    },

    async deliverReply(key, reply: CloudEvent, now) {
      return retrying(() => deliverReplyNow.immediate(key, reply, now));
    },

    async get(instanceId) {
      const row = getInstance.get(instanceId);
      return row === undefined ? undefined : toInstanceRow(row);
    },

    async list(query: InstanceQuery) {
      const { sql, params } = listInstances(query);
      return (db.prepare(sql).all(...params) as SqliteInstanceRow[]).map(toInstanceRow);
    },

    async countActive(): Promise<StatusCount[]> {
      return countActive.all().map((row) => ({
        workflowId: row.workflow_id,
        status: row.status as WorkflowStatus,
        count: row.count,
      }));
    },

    async close() {
      if (db.open) db.close();
    },
  };
  return backend;
}
