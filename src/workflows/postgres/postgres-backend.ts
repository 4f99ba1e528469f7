import postgres, { type Sql } from 'postgres';
import { quoteIdentifier } from '../../sql/postgres/migration-runner.ts';
import type { AppendHook, StoreTransaction } from '../../store/event-store.ts';
import type { WorkflowBackend } from '../backend.ts';
import { LeaseLostError, WorkflowInstanceIdTakenError } from '../errors.ts';
import type { WorkflowStatus } from '../instance-state.ts';
import type { InboxItem } from '../planner.ts';
import { migratePostgresWorkflows } from './schema.ts';
import { claimStatement } from './sql/claim.ts';
import { deliverReplyStatement, deliverStatement } from './sql/deliver.ts';
import { insertInstanceParams, insertInstanceStatement } from './sql/insert-instance.ts';
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

/** How to open the workflow tables on PostgreSQL: beside the event store, in its schema. */
export type PostgresWorkflowBackendOptions = {
  /** The event store's schema (`createPostgresEventStore`'s `schema`); default `keel`. */
  schema?: string;
  /** With `url`: most connections the backend opens for claims, renewals and reads; default 4. */
  maxConnections?: number;
} & (
  | {
      /** Connection string of the event store's database (`KEEL_POSTGRES_URL`). */
      url: string;
      sql?: undefined;
    }
  | {
      /** A postgres.js instance on the event store's database, left open on close. */
      sql: Sql;
      url?: undefined;
    }
);

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const UNIQUE_VIOLATION = '23505';

function checkDialect(transaction: StoreTransaction): void {
  if (transaction.dialect !== 'postgres') {
    throw new TypeError(
      `the PostgreSQL workflow backend was given a ${transaction.dialect} event store: use one database for both`,
    );
  }
}

/**
 * The workflow tables in the event store's PostgreSQL schema, shared by any number of engine processes.
 * Transition writes run in the store's append transaction; claims (`FOR UPDATE SKIP LOCKED`), lease
 * renewals, the inbox and reads run on the backend's own pool.
 */
export function createPostgresWorkflowBackend(options: PostgresWorkflowBackendOptions): WorkflowBackend {
  const schemaName = options.schema ?? 'keel';
  if (!SCHEMA_NAME.test(schemaName)) {
    throw new TypeError(
      `createPostgresWorkflowBackend: schema "${schemaName}" must be lower-case letters, digits and '_' (at most 63)`,
    );
  }
  const owned = options.sql === undefined;
  const sql =
    options.sql ?? postgres(options.url as string, { max: options.maxConnections ?? 4, onnotice: () => {} });
  const schema = quoteIdentifier(schemaName);
  const text = {
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
  const run = async (statement: string, params: readonly unknown[]) =>
    [...(await sql.unsafe(statement, params as never[], { prepare: true }))] as Record<string, unknown>[];

  let migrated: Promise<void> | undefined;

  const backend: WorkflowBackend = {
    dialect: 'postgres',

    migrate() {
      migrated ??= migratePostgresWorkflows(sql, schemaName).catch((error) => {
        migrated = undefined; // a failed migration (server down, ...) is tried again by the next call
        throw error;
      });
      return migrated;
    },

    insertHook(row): AppendHook {
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
    },

    writeHook(write, out): AppendHook {
      return async ({ transaction }) => {
        checkDialect(transaction);
        const rows = await transaction.query<{ inbox_version: string }>(
          text.write,
          writeTransitionParams(write),
        );
        if (rows.length === 0)
          throw new LeaseLostError(write.instanceId, write.lease.owner, write.lease.epoch);
        out.inboxVersion = Number(rows[0]!.inbox_version);
        if (write.consumed.length > 0) {
          await transaction.query(text.deleteConsumed, [write.instanceId, write.consumed.map(String)]);
        }
        if (write.endedAt !== null) await transaction.query(text.clearEnded, [write.instanceId]);
        else if (write.waitKey !== undefined) {
          await transaction.query(text.replaceWait, [write.instanceId, write.waitKey, write.now]);
        }
      };
    },

    async release(write) {
      return (await run(text.release, writeTransitionParams(write))).length > 0;
    },

    async claim(owner, definitions, now, leaseUntil, limit) {
      if (definitions.length === 0 || limit <= 0) return [];
      const rows = await run(text.claim, [owner, now, leaseUntil, [...definitions], limit]);
      return rows.map((row) => ({
        instanceId: String(row.instance_id),
        workflowId: String(row.workflow_id),
        workflowVersion: Number(row.workflow_version),
        tenantId: String(row.tenant_id),
        streamId: String(row.stream_id),
        lease: { owner, epoch: Number(row.lease_epoch) },
        inboxVersion: Number(row.inbox_version),
        inboxSeen: Number(row.inbox_seen),
      }));
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
      return { items, version: rows.length === 0 ? 0 : Number(rows[0]!.inbox_version) };
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
  return backend;
}
