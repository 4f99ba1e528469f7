import type { Database } from 'better-sqlite3';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import type { ClaimedInstance, InstanceQuery, StatusCount, WorkflowBackend } from '../backend.ts';
import type { WorkflowStatus } from '../instance-state.ts';
import type { InboxItem } from '../planner.ts';
import { migrateSqliteWorkflows } from './schema.ts';
import { CLAIM, type SqliteClaimRow } from './sql/claim.ts';
import { FIND_WAIT, INSERT_INBOX, TOUCH_FOR_INBOX } from './sql/deliver.ts';
import { type SqliteInstanceRow, toInstanceRow } from './sql/instance-row.ts';
import { COUNT_ACTIVE, GET_INSTANCE, listInstances } from './sql/list-instances.ts';
import { DISCARD_INBOX, READ_INBOX, type SqliteInboxRow } from './sql/read-inbox.ts';
import { RELEASE } from './sql/release.ts';
import { RENEW, type SqliteRenewRow } from './sql/renew.ts';
import { writeTransitionParams } from './sql/write-transition.ts';
import { parseSqliteWorkflowBackendOptions, type SqliteWorkflowBackendOptions } from './sqlite-options.ts';
import { insertInstanceHook, writeTransitionHook } from './transition-hooks.ts';

export type { SqliteWorkflowBackendOptions } from './sqlite-options.ts';

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
};

/** Runs a synchronous unit of work, retrying it (asynchronously) while the write lock is taken, up to `busyRetryMs`. */
async function retryWhileBusy<T>(work: () => T, busyRetryMs: number): Promise<T> {
  const deadline = Date.now() + busyRetryMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 25)) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The backend's statements, prepared once on its connection. */
function prepareStatements(db: Database) {
  const touch = db.prepare<[Record<string, unknown>], { instance_id: string }>(TOUCH_FOR_INBOX);
  const insertInbox = db.prepare<[Record<string, unknown>]>(INSERT_INBOX);
  const findWait = db.prepare<[string], { instance_id: string }>(FIND_WAIT);
  const deliver = db.transaction(
    (instanceId: string, kind: string, name: string, payload: unknown, now: number): boolean => {
      if (touch.all({ instanceId, kind, now }).length === 0) return false;
      insertInbox.run({ instanceId, kind, name, payload: JSON.stringify(payload ?? null), now });
      return true;
    },
  );
  const deliverReply = db.transaction((key: string, reply: CloudEvent, now: number): string | undefined => {
    const wait = findWait.get(key);
    if (wait === undefined) return undefined;
    return deliver(wait.instance_id, 'reply', key, reply, now) ? wait.instance_id : undefined;
  });
  return {
    claim: db.prepare<[Record<string, unknown>], SqliteClaimRow>(CLAIM),
    renew: db.prepare<[Record<string, unknown>], SqliteRenewRow>(RENEW),
    release: db.prepare<[Record<string, unknown>], { inbox_version: number }>(RELEASE),
    readInbox: db.prepare<[string], SqliteInboxRow>(READ_INBOX),
    discard: db.prepare<[string]>(DISCARD_INBOX),
    get: db.prepare<[string], SqliteInstanceRow>(GET_INSTANCE),
    countActive: db.prepare<[], { workflow_id: string; status: string; count: number }>(COUNT_ACTIVE),
    deliver,
    deliverReply,
  };
}

/** An instance as a claim returns it. */
function toClaimedInstance(row: SqliteClaimRow, owner: string): ClaimedInstance {
  return {
    instanceId: row.instance_id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    tenantId: row.tenant_id,
    streamId: row.stream_id,
    lease: { owner, epoch: row.lease_epoch },
    inboxVersion: row.inbox_version,
    inboxSeen: row.inbox_seen,
  };
}

/** The unconsumed inbox items among READ_INBOX's rows (a row without an item carries only the version). */
function toInboxItems(rows: readonly SqliteInboxRow[]): InboxItem[] {
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
  return items;
}

/**
 * The workflow tables in the event store's SQLite file (migrated when opened), for one engine process. Transition writes run in
 * the store's append transaction (on the store's connection); claims, renewals, the inbox and reads run
 * on the backend's own connection, which never waits for the write lock synchronously: it is opened with
 * no busy timeout and retries after an asynchronous pause, so an append holding the lock across awaits
 * (its hooks) in this very process always gets to commit.
 */
export function createSqliteWorkflowBackend(options: SqliteWorkflowBackendOptions): WorkflowBackend {
  const settings = parseSqliteWorkflowBackendOptions(options);
  // Migrating at open may meet another connection's write: wait for it there, where nothing of ours holds
  // a transaction open, and never again afterwards (see below).
  const db: Database = openSqlite({
    path: settings.path,
    synchronous: settings.synchronous,
    prepare: migrateSqliteWorkflows,
  });
  db.pragma('busy_timeout = 0');
  const retrying = <T>(work: () => T): Promise<T> => retryWhileBusy(work, settings.busyRetryMs);
  const statements = prepareStatements(db);

  return {
    dialect: 'sqlite',

    // Migrated when opened: the statements are prepared on the tables.
    async migrate() {},

    insertHook: insertInstanceHook,
    writeHook: writeTransitionHook,

    async release(write) {
      const rows = await retrying(() => statements.release.all(writeTransitionParams(write)));
      return rows.length > 0;
    },

    async claim(owner, definitions, now, leaseUntil, limit) {
      if (definitions.length === 0 || limit <= 0) return [];
      const rows = await retrying(() =>
        statements.claim.all({
          owner,
          until: leaseUntil,
          now,
          definitions: JSON.stringify(definitions),
          limit,
        }),
      );
      return rows.map((row) => toClaimedInstance(row, owner));
    },

    async renew(owner, instanceIds, leaseUntil) {
      const rows =
        instanceIds.length === 0
          ? []
          : await retrying(() =>
              statements.renew.all({ owner, until: leaseUntil, ids: JSON.stringify(instanceIds) }),
            );
      return {
        held: new Map(rows.map((row) => [row.instance_id, row.lease_epoch])),
        cancelRequested: new Set(
          rows.filter((row) => row.cancel_requested === 1).map((row) => row.instance_id),
        ),
      };
    },

    async readInbox(instanceId) {
      const rows = statements.readInbox.all(instanceId);
      return { items: toInboxItems(rows), version: rows[0]?.inbox_version ?? 0 };
    },

    async discardInbox(ids) {
      if (ids.length === 0) return;
      await retrying(() => statements.discard.run(JSON.stringify(ids)));
    },

    async deliver(instanceId, kind, name, payload, now) {
      return retrying(() => statements.deliver.immediate(instanceId, kind, name, payload, now));
    },

    async deliverReply(key, reply: CloudEvent, now) {
      return retrying(() => statements.deliverReply.immediate(key, reply, now));
    },

    async get(instanceId) {
      const row = statements.get.get(instanceId);
      return row === undefined ? undefined : toInstanceRow(row);
    },

    async list(query: InstanceQuery) {
      const { sql, params } = listInstances(query);
      return (db.prepare(sql).all(...params) as SqliteInstanceRow[]).map(toInstanceRow);
    },

    async countActive(): Promise<StatusCount[]> {
      return statements.countActive.all().map((row) => ({
        workflowId: row.workflow_id,
        status: row.status as WorkflowStatus,
        count: row.count,
      }));
    },

    async close() {
      if (db.open) db.close();
    },
  };
}
