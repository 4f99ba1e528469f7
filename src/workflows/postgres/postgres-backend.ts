import postgres from 'postgres';
import { quoteIdentifier } from '../../sql/postgres/migration-runner.ts';
import type { ClaimedInstance, WorkflowBackend } from '../backend.ts';
import type { WorkflowStatus } from '../instance-state.ts';
import type { InboxItem } from '../planner.ts';
import {
  type PostgresWorkflowBackendOptions,
  parsePostgresWorkflowBackendOptions,
} from './postgres-options.ts';
import { migratePostgresWorkflows } from './schema.ts';
import { claimStatement } from './sql/claim.ts';
import { deliverReplyStatement, deliverStatement } from './sql/deliver.ts';
import { insertInstanceStatement } from './sql/insert-instance.ts';
import { toInstanceRow } from './sql/instance-row.ts';
import { countActiveStatement, getInstanceStatement, listInstancesStatement } from './sql/list-instances.ts';
import { discardInboxStatement, readInboxStatement } from './sql/read-inbox.ts';
import { releaseStatement } from './sql/release.ts';
import { renewStatement } from './sql/renew.ts';
import {
  clearEndedStatement,
  deleteConsumedStatement,
  replaceWaitStatement,
  writeTransitionParams,
  writeTransitionStatement,
} from './sql/write-transition.ts';
import { insertInstanceHook, writeTransitionHook } from './transition-hooks.ts';

export type { PostgresWorkflowBackendOptions } from './postgres-options.ts';

/** Every statement text of the backend, in its schema. */
function statementsFor(schema: string) {
  return {
    insert: insertInstanceStatement(schema),
    write: writeTransitionStatement(schema),
    deleteConsumed: deleteConsumedStatement(schema),
    replaceWait: replaceWaitStatement(schema),
    clearEnded: clearEndedStatement(schema),
    release: releaseStatement(schema),
    claim: claimStatement(schema),
    renew: renewStatement(schema),
    readInbox: readInboxStatement(schema),
    discard: discardInboxStatement(schema),
    deliver: deliverStatement(schema),
    deliverReply: deliverReplyStatement(schema),
    get: getInstanceStatement(schema),
    count: countActiveStatement(schema),
  };
}

/** An instance as a claim returns it. */
function toClaimedInstance(row: Record<string, unknown>, owner: string): ClaimedInstance {
  return {
    instanceId: String(row.instance_id),
    workflowId: String(row.workflow_id),
    workflowVersion: Number(row.workflow_version),
    tenantId: String(row.tenant_id),
    streamId: String(row.stream_id),
    lease: { owner, epoch: Number(row.lease_epoch) },
    inboxVersion: Number(row.inbox_version),
    inboxSeen: Number(row.inbox_seen),
  };
}

/** The unconsumed inbox items among the inbox query's rows (a row without an item carries only the version). */
function toInboxItems(rows: readonly Record<string, unknown>[]): InboxItem[] {
  const items: InboxItem[] = [];
  for (const row of rows) {
    if (row.id === null) continue;
    items.push({
      id: Number(row.id),
      kind: row.kind as InboxItem['kind'],
      name: String(row.name ?? ''),
      payload: row.payload === null ? null : JSON.parse(String(row.payload)),
    });
  }
  return items;
}

/**
 * The workflow tables in the event store's PostgreSQL schema, shared by any number of engine processes.
 * Transition writes run in the store's append transaction; claims (`FOR UPDATE SKIP LOCKED`), lease
 * renewals, the inbox and reads run on the backend's own pool.
 */
export function createPostgresWorkflowBackend(options: PostgresWorkflowBackendOptions): WorkflowBackend {
  const settings = parsePostgresWorkflowBackendOptions(options);
  const owned = settings.sql === undefined;
  const sql =
    settings.sql ?? postgres(settings.url as string, { max: settings.maxConnections, onnotice: () => {} });
  const schema = quoteIdentifier(settings.schema);
  const text = statementsFor(schema);
  const run = async (statement: string, params: readonly unknown[]) =>
    [...(await sql.unsafe(statement, params as never[], { prepare: true }))] as Record<string, unknown>[];

  let migrated: Promise<void> | undefined;

  return {
    dialect: 'postgres',

    migrate() {
      migrated ??= migratePostgresWorkflows(sql, settings.schema).catch((error) => {
        migrated = undefined; // a failed migration (server down, ...) is tried again by the next call
        throw error;
      });
      return migrated;
    },

    insertHook: (row) => insertInstanceHook(text, row),
    writeHook: (write, out) => writeTransitionHook(text, write, out),

    async release(write) {
      return (await run(text.release, writeTransitionParams(write))).length > 0;
    },

    async claim(owner, definitions, now, leaseUntil, limit) {
      if (definitions.length === 0 || limit <= 0) return [];
      const rows = await run(text.claim, [owner, now, leaseUntil, [...definitions], limit]);
      return rows.map((row) => toClaimedInstance(row, owner));
    },

    async renew(owner, instanceIds, leaseUntil) {
      const rows =
        instanceIds.length === 0 ? [] : await run(text.renew, [owner, leaseUntil, [...instanceIds]]);
      return {
        held: new Map(rows.map((row) => [String(row.instance_id), Number(row.lease_epoch)])),
        cancelRequested: new Set(
          rows.filter((row) => row.cancel_requested === true).map((row) => String(row.instance_id)),
        ),
      };
    },

    async readInbox(instanceId) {
      const rows = await run(text.readInbox, [instanceId]);
      return { items: toInboxItems(rows), version: rows.length === 0 ? 0 : Number(rows[0]!.inbox_version) };
    },

    async discardInbox(ids) {
      if (ids.length === 0) return;
      await run(text.discard, [ids.map(String)]);
    },

    async deliver(instanceId, kind, name, payload, now) {
      const rows = await run(text.deliver, [instanceId, kind, name, JSON.stringify(payload ?? null), now]);
      return rows.length > 0;
    },

    async deliverReply(key, reply, now) {
      const rows = await run(text.deliverReply, [key, JSON.stringify(reply), now]);
      return rows.length === 0 ? undefined : String(rows[0]!.instance_id);
    },

    async get(instanceId) {
      const [row] = await run(text.get, [instanceId]);
      return row === undefined ? undefined : toInstanceRow(row);
    },

    async list(query) {
      const { text: statement, params } = listInstancesStatement(schema, query);
      return (await run(statement, params)).map(toInstanceRow);
    },

    async countActive() {
      return (await run(text.count, [])).map((row) => ({
        workflowId: String(row.workflow_id),
        status: row.status as WorkflowStatus,
        count: Number(row.count),
      }));
    },

    async close() {
      if (owned) await sql.end({ timeout: 5 });
    },
  };
}
