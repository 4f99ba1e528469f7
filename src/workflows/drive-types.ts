import type { Logger } from 'pino';
import type { Publisher } from '../bus/publisher-port.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventData } from '../events/define-event.ts';
import type { EventStore, StoredEvent } from '../store/event-store.ts';
import type { InstanceInsert, Lease, WorkflowBackend } from './backend.ts';
import type { WorkflowStatus } from './instance-state.ts';
import type { WorkflowMetrics } from './metrics.ts';
import type { WorkflowRegistry } from './registry.ts';
import type { WorkflowStarted } from './workflow-events.ts';

/** A transition as observers see it, once stored. */
export interface WorkflowTransition {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  /** Row status after the transition. */
  status: WorkflowStatus;
  /** The events stored by the transition. */
  events: readonly StoredEvent[];
}

/** What the driver of one instance needs from its engine. */
export interface DriverDependencies {
  store: EventStore;
  backend: WorkflowBackend;
  registry: WorkflowRegistry;
  publisher: Publisher | undefined;
  /** Whether the bus catalog routes SLA breaches (so they are published). */
  publishesBreaches: boolean;
  metrics: WorkflowMetrics | undefined;
  logger: Logger;
  /** CloudEvents `source` of history events. */
  source: string;
  onTransition: ((transition: WorkflowTransition) => void | Promise<void>) | undefined;
  /** Asks the engine to look for due work now (an inbox item arrived while parking). */
  kick(): void;
  /** Asks the engine to look for due work at this time (ms since the epoch). */
  wakeAt(time: number): void;
  /** Whether the engine is closing: start nothing new, hand the instance back. */
  closing(): boolean;
}

/** How a driven instance talks to its engine while it runs. */
export interface DriveHandle {
  readonly instanceId: string;
  readonly lease: Lease;
  /** Aborted when the lease is lost or the engine stops hard: stop at once and write nothing. */
  readonly stop: AbortSignal;
  /** Aborts the running action (if any) because of a cancel; the driver then reads its inbox. */
  readonly cancel: AbortSignal;
}

/** A new instance's start: the drive stores its WorkflowStarted and row with its first step's start. */
export interface NewInstanceStart {
  kind: 'new';
  streamId: string;
  tenantId: string;
  /** The WorkflowStarted event to store first. */
  event: CloudEvent<EventData<typeof WorkflowStarted>>;
  /** The instance's row, inserted in the same transaction. */
  row: InstanceInsert;
  /** Told once the start is stored (true), found to exist already (false), or failed. */
  stored(outcome: boolean | Error): void;
}

/** A claimed row's start: the history is read from the store. */
export interface ClaimedInstanceStart {
  kind: 'claimed';
  streamId: string;
  tenantId: string;
  inboxVersion: number;
  inboxSeen: number;
}

/**
 * Where a drive starts: a claimed row (history read from the store), or a new instance whose
 * WorkflowStarted the drive stores itself, with its row and its first step's start, in one append.
 */
export type DriveStart = ClaimedInstanceStart | NewInstanceStart;
