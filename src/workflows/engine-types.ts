import type { Logger } from 'pino';
import type { Publisher } from '../bus/publisher-port.ts';
import type { RouterOptions } from '../bus/router-port.ts';
import type { Catalog } from '../events/catalog.ts';
import type { EventStore } from '../store/event-store.ts';
import type { Transport } from '../transport/transport.ts';
import type { InstanceRow, SlaState, WorkflowBackend } from './backend.ts';
import type { CompensationReason, WorkflowDefinition } from './define-workflow.ts';
import type { WorkflowTransition } from './drive-types.ts';
import type { StepStatus, WorkflowStatus } from './instance-state.ts';
import type { WorkflowMetrics } from './metrics.ts';
import type { ErrorInfo } from './workflow-events.ts';

/** The bus an engine uses for command steps, their replies, triggers and SLA alerts. */
export interface WorkflowBusOptions {
  transport: Transport;
  /** Must route every command, reply and trigger event type (and `WorkflowSlaBreached` to publish breaches). */
  catalog: Catalog;
  /** Publisher for commands and alerts; default one the engine creates on the transport. */
  publisher?: Publisher;
  /** Consumer group of the engine's router (replies and triggers); default `keel-workflows`. */
  group?: string;
  /** Further router settings (retries, concurrency, ...). */
  router?: Omit<RouterOptions, 'transport' | 'catalog' | 'group' | 'metrics' | 'logger'>;
}

/** How to create a workflow engine. */
export interface WorkflowEngineOptions {
  /** Event store holding each instance's history (`workflow-<id>-<instanceId>` streams). */
  store: EventStore;
  /** The engine's tables, on the store's database (`createSqliteWorkflowBackend`, `createPostgresWorkflowBackend`). */
  backend: WorkflowBackend;
  /** Definition versions to register now (more with `register`). */
  workflows?: readonly WorkflowDefinition[];
  /** Bus for command steps, replies, triggers and SLA alerts; without it those steps fail. */
  bus?: WorkflowBusOptions;
  /** Metrics from `createWorkflowMetrics`. */
  metrics?: WorkflowMetrics;
  logger?: Logger;
  /** Name of this process in leases; default `<hostname>:<pid>:<random>`. */
  workerId?: string;
  /** Most instances this process runs at once; default 64. */
  concurrency?: number;
  /** Milliseconds a claim lasts without renewal (renewed every third of it); default 10 000. */
  leaseTtlMs?: number;
  /** Milliseconds between looks for due instances when nothing wakes the engine sooner; default 250. */
  pollIntervalMs?: number;
  /** Most instances claimed in one query; default 32. */
  claimBatch?: number;
  /** Milliseconds before its SLA deadline that an instance counts as at risk (`list({ slaRisk: true })`); default 300 000. */
  slaRiskWindowMs?: number;
  /** CloudEvents `source` of history events; default `urn:keel:workflows`. */
  source?: string;
  /** Called after every stored transition, in order per instance (awaited: it holds the instance back). */
  onTransition?: (transition: WorkflowTransition) => void | Promise<void>;
}

/** How to start an instance. */
export interface StartOptions {
  /** Instance id; default a new UUIDv7. Starting an id that exists starts nothing (dedupe). */
  instanceId?: string;
  /** Tenant owning the instance and its history; default the store's default tenant. */
  tenantId?: string;
  /** Correlation id carried by the instance's events and commands; default the instance id. */
  correlationId?: string;
  /** Id of the event that caused the start (triggers set it). */
  causationId?: string;
}

/** What `start` did. */
export interface StartResult {
  instanceId: string;
  workflowId: string;
  /** Version the instance runs on (for an existing instance, the one it started with). */
  workflowVersion: number;
  streamId: string;
  /** False when an instance with this id existed already. */
  created: boolean;
}

/** One step of an instance, as `get` shows it. */
export interface StepView {
  name: string;
  status: StepStatus;
  /** Attempt of the latest start, from 1; 0 before the first. */
  attempt: number;
  output: unknown;
  error: ErrorInfo | undefined;
}

/** An event of an instance's history, as `get` shows it. */
export interface HistoryEntry {
  /** Version of the event in the instance's stream, from 1. */
  version: number;
  /** CloudEvents type, e.g. `keel.workflow.step.completed`. */
  type: string;
  /** When it was stored, ms since the epoch. */
  recordedAt: number;
  data: unknown;
}

/** An instance's state and history. Times are ms since the epoch. */
export interface WorkflowInstanceView {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  tenantId: string;
  status: WorkflowStatus;
  /** Step the instance is on (or compensating); null before the first and once ended. */
  currentStep: string | null;
  input: unknown;
  /** Outputs of completed steps, by name. */
  outputs: Record<string, unknown>;
  /** Output of the last step, once completed. */
  output: unknown;
  /** The failure that ended the instance or is being compensated. */
  error: ErrorInfo | undefined;
  steps: StepView[];
  /** While or after compensating: why, and the steps to undo in order (those done are `compensated`). */
  compensation: { reason: CompensationReason; steps: string[] } | undefined;
  startedAt: number;
  endedAt: number | undefined;
  slaDeadline: number | undefined;
  slaBreached: boolean;
  /** The instance's time-out. */
  deadline: number | undefined;
  /** Process running it now, if any. */
  leaseOwner: string | null;
  history: HistoryEntry[];
}

/** Filter of `list`. */
export interface ListOptions {
  status?: WorkflowStatus | readonly WorkflowStatus[];
  /** A workflow id, or a definition (its id and version). */
  definition?: string | WorkflowDefinition;
  /** With `definition` as an id: only instances of this version. */
  version?: number;
  tenantId?: string;
  /**
   * Unended instances near their SLA deadline (or past it), soonest first: `true` uses the engine's
   * `slaRiskWindowMs`, `{ withinMs }` another window in milliseconds.
   */
  slaRisk?: boolean | { withinMs: number };
  /** Instances in this SLA state now (`slaRiskWindowMs` before the deadline is at risk); not with `slaRisk`. */
  slaState?: SlaState;
  /** Instances after this one in creation order (the last of the previous page); not with `slaRisk`. */
  after?: { createdAt: number; instanceId: string };
  /** Most instances; default 100. */
  limit?: number;
}

/** An instance as `list` shows it (its row). */
export type WorkflowInstanceSummary = InstanceRow;

/**
 * Runs durable workflows: starts instances, sends them signals and cancels, reads their state, and —
 * once `startWorker` is called — runs due instances under leases shared with other processes.
 */
export interface WorkflowEngine {
  /** This process's name in leases. */
  readonly workerId: string;
  /**
   * Registers a definition version (older versions stay registered: their instances keep running). A
   * version bringing reply or trigger types the router does not consume yet must be registered before
   * `startWorker` (the router subscribes when it starts).
   */
  register(definition: WorkflowDefinition): void;
  /**
   * Starts an instance on `definition` (a definition, registered on first use, or an id: its newest
   * version). Validates the input; an existing instance id starts nothing (`created: false`).
   */
  start<Input>(
    definition: WorkflowDefinition<Input> | string,
    input: Input,
    options?: StartOptions,
  ): Promise<StartResult>;
  /** Sends a signal (name and JSON payload) to a running instance. Throws WorkflowInstanceNotFoundError / WorkflowInstanceEndedError. */
  signal(instanceId: string, name: string, payload?: unknown): Promise<void>;
  /** Cancels a running instance: its completed steps are compensated, then it ends as cancelled. */
  cancel(instanceId: string, options?: { reason?: string }): Promise<void>;
  /** Operator action for an instance that needs one: tries its failing compensation again. */
  resume(instanceId: string, options?: { detail?: string }): Promise<void>;
  /** An instance's state and history; throws WorkflowInstanceNotFoundError. */
  get(instanceId: string): Promise<WorkflowInstanceView>;
  /** Instances by status, definition, tenant or SLA risk. */
  list(options?: ListOptions): Promise<WorkflowInstanceSummary[]>;
  /**
   * Resolves with the instance once it has ended (waiting for an unknown id to be started, e.g. by a
   * trigger); rejects with WorkflowWaitTimeoutError after `timeoutMs` (default 30 000).
   */
  waitForEnd(instanceId: string, options?: { timeoutMs?: number }): Promise<WorkflowInstanceView>;
  /** Starts running due instances in this process (and the bus router for replies and triggers). */
  startWorker(): Promise<void>;
  /** Instances this process is running now. */
  running(): number;
  /**
   * Stops claiming, hands running instances back after their current step (up to `deadlineMs`, default
   * 10 000; past it, still-running actions are abandoned and their leases left to run out) and closes
   * the router. The store, the backend and the bus were passed in: they stay open.
   */
  close(deadlineMs?: number): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
