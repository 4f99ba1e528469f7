import type { CloudEvent } from '../events/cloud-event.ts';
import type { AppendHook } from '../store/event-store.ts';
import type { WorkflowStatus } from './instance-state.ts';
import type { InboxItem } from './planner.ts';

/** An instance's row: what `list` shows and what the engine schedules by. Times are ms since the epoch. */
export interface InstanceRow {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  tenantId: string;
  /** Event store stream holding the instance's history. */
  streamId: string;
  status: WorkflowStatus;
  /** Name of the step the instance is on (or compensating); null before the first and after the end. */
  step: string | null;
  /** Version of the history stream when the row was last written. */
  streamVersion: number;
  /** When the instance is next due (a timer, a retry, a lease that runs out); null when nothing is scheduled. */
  wakeAt: number | null;
  slaDeadline: number | null;
  slaBreached: boolean;
  /** Process holding the instance, while one runs it. */
  leaseOwner: string | null;
  leaseUntil: number | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
}

/** A new instance's row, written in the transaction that appends its WorkflowStarted. */
export interface InstanceInsert {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  tenantId: string;
  streamId: string;
  slaDeadline: number | null;
  /** Milliseconds since the epoch. */
  now: number;
  /** Leased at once to the starting process (which runs it straight away); otherwise due now for any. */
  lease: { owner: string; until: number } | undefined;
}

/** A lease on an instance: who holds it, and the fencing epoch every write must match. */
export interface Lease {
  owner: string;
  /** Incremented by every claim: a process that lost its lease writes nothing, even if it still thinks it holds it. */
  epoch: number;
}

/** What a transition writes to the instance row, in the transaction that appends its events. */
export interface InstanceWrite {
  instanceId: string;
  lease: Lease;
  status: WorkflowStatus;
  step: string | null;
  streamVersion: number;
  slaBreached: boolean;
  endedAt: number | null;
  /** Milliseconds since the epoch. */
  now: number;
  /** Inbox version the engine has read and acted on. */
  inboxSeen: number;
  /** Clear the cancel flag (a cancel was taken from the inbox). */
  clearCancel: boolean;
  /** Gives the lease up; the row is next due at `wakeAt` (null: only an inbox item wakes it), or now if the inbox moved. */
  release: { wakeAt: number | null } | undefined;
  /** Inbox items this transition consumed: deleted with it. */
  consumed: readonly number[];
  /** The reply correlation key the instance now waits on (null: none); undefined leaves waits as they are. */
  waitKey: string | null | undefined;
}

/** Instance claimed by a process. */
export interface ClaimedInstance {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  tenantId: string;
  streamId: string;
  lease: Lease;
  /** Inbox version now, and the one last acted on: they differ when unread items wait. */
  inboxVersion: number;
  inboxSeen: number;
}

/** What `renew` found. */
export interface RenewResult {
  /** Instances still leased to the owner, with their epochs. */
  held: Map<string, number>;
  /** Held instances someone asked to cancel. */
  cancelRequested: Set<string>;
}

/** Filter of `list`. */
export interface InstanceQuery {
  status?: readonly WorkflowStatus[];
  workflowId?: string;
  workflowVersion?: number;
  tenantId?: string;
  /** Only running instances whose SLA deadline is at or before this time (ms since the epoch), soonest first. */
  slaDeadlineBefore?: number;
  /** Instances in an SLA state at `now` (ms since the epoch), `riskWindowMs` before the deadline counting as at risk. */
  sla?: { state: SlaState; now: number; riskWindowMs: number };
  /** Rows after this one in the list's order (created_at, instance_id): the next page. Not with `slaDeadlineBefore`. */
  after?: { createdAt: number; instanceId: string };
  /** Most rows; default 100. */
  limit?: number;
}

/**
 * Where an instance stands against its SLA deadline: `breached` once flagged or past the deadline unended;
 * `at-risk` unended within the risk window of it; `on-time` otherwise; `none` without an SLA.
 */
export type SlaState = 'none' | 'on-time' | 'at-risk' | 'breached';

/** Count of instances by workflow and status, for metrics. */
export interface StatusCount {
  workflowId: string;
  status: WorkflowStatus;
  count: number;
}

/**
 * The engine's tables beside the event store, on the same database: instance rows (status, timers,
 * leases), their inbox (signals, replies, cancels) and reply waits. Writes that go with a transition
 * run inside the event store append's transaction (the hooks); the rest on the backend's own connection.
 */
export interface WorkflowBackend {
  /** SQL dialect; must match the event store's (its hooks run in the store's transaction). */
  readonly dialect: 'sqlite' | 'postgres';
  /** Creates or upgrades the tables; idempotent, and safe for processes starting together. */
  migrate(): Promise<void>;
  /** Hook inserting a new instance's row (fails the append when the instance id is taken). */
  insertHook(row: InstanceInsert): AppendHook;
  /**
   * Hook writing a transition: fenced by the lease (throws LeaseLostError, rolling the append back, when
   * the row is no longer leased at that epoch). Puts the row's inbox version in `out.inboxVersion`.
   */
  writeHook(write: InstanceWrite, out: { inboxVersion: number }): AppendHook;
  /** A transition without events (park, give up the lease); false when the lease was lost. */
  release(write: InstanceWrite): Promise<boolean>;
  /** Leases up to `limit` due instances of the given definitions (`<id>@<version>`) to `owner` until `leaseUntil`. */
  claim(
    owner: string,
    definitions: readonly string[],
    now: number,
    leaseUntil: number,
    limit: number,
  ): Promise<ClaimedInstance[]>;
  /** Extends the owner's leases on these instances to `leaseUntil` (ms since the epoch). */
  renew(owner: string, instanceIds: readonly string[], leaseUntil: number): Promise<RenewResult>;
  /** The instance's unconsumed inbox, oldest first, and the inbox version they make up. */
  readInbox(instanceId: string): Promise<{ items: InboxItem[]; version: number }>;
  /** Deletes inbox items that need no transition. */
  discardInbox(ids: readonly number[]): Promise<void>;
  /** Adds a signal, cancel or resume to a running instance's inbox and makes it due; false when it is unknown or ended. */
  deliver(
    instanceId: string,
    kind: 'signal' | 'cancel' | 'resume',
    name: string,
    payload: unknown,
    now: number,
  ): Promise<boolean>;
  /** Adds a reply to the inbox of the instance waiting on `key`; the instance id, or undefined when nobody waits. */
  deliverReply(key: string, reply: CloudEvent, now: number): Promise<string | undefined>;
  /** One instance's row. */
  get(instanceId: string): Promise<InstanceRow | undefined>;
  /** Rows matching the query, oldest first (soonest SLA deadline first with `slaDeadlineBefore`). */
  list(query: InstanceQuery): Promise<InstanceRow[]>;
  /** Unended instances by workflow and status. */
  countActive(): Promise<StatusCount[]>;
  /** Releases the connection the backend opened (not the store's). */
  close(): Promise<void>;
}

/** `<workflowId>@<version>`: how the backend names a definition version. */
export function definitionKey(workflowId: string, version: number): string {
  return `${workflowId}@${version}`;
}
