import type { z } from 'zod';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventData, EventDefinition } from '../events/define-event.ts';

/** How often a failed step (or compensation) is tried again, and how long the engine waits in between. */
export interface RetryPolicy {
  /** Attempts in all, the first included; default 3 for steps, 5 for compensations. */
  maxAttempts?: number;
  /** Milliseconds before the second attempt; default 200. */
  initialDelayMs?: number;
  /** Multiplier applied to the delay after each further failure; default 2. */
  factor?: number;
  /** Longest delay between attempts, in milliseconds; default 30 000. */
  maxDelayMs?: number;
}

/** A retry policy with every default applied. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/** What a step's action (or a command's data function) is given. */
export interface StepContext<Input = unknown> {
  /** Id of the instance: unique in the engine's database. */
  readonly instanceId: string;
  /** Id of the workflow definition. */
  readonly workflowId: string;
  /** Version of the definition this instance runs on. */
  readonly workflowVersion: number;
  /** Name of the step being run. */
  readonly step: string;
  /** The instance's input, as validated at start. */
  readonly input: Input;
  /** Outputs of the steps completed so far, by step name (JSON, as stored). */
  readonly outputs: Readonly<Record<string, unknown>>;
  /**
   * `<instanceId>:<step>` — the same for every attempt and every re-run after a crash: an action that
   * keys its effect on it (a unique key, an upsert, an API's Idempotency-Key header) happens once.
   */
  readonly idempotencyKey: string;
  /** Attempt of this step, from 1 (a re-run after a crash keeps its attempt number). */
  readonly attempt: number;
  /** Aborted when the step times out, the instance is cancelled, the lease is lost or the engine stops. */
  readonly signal: AbortSignal;
  /** Tenant that owns the instance. */
  readonly tenantId: string;
  /** Correlation id of the instance: commands it publishes carry it. */
  readonly correlationId: string;
}

/** Why a saga's compensations run. */
export type CompensationReason = 'failed' | 'timed_out' | 'cancelled';

/** What a compensation is given: the step's context, the output it is undoing and why. */
export interface CompensationContext<Input = unknown> extends StepContext<Input> {
  /** Output the step produced when it completed. */
  readonly output: unknown;
  /** Why the saga is being undone. */
  readonly reason: CompensationReason;
}

/** Publishes a command event and waits for a reply correlated with it. */
export interface CommandSpec<Input = unknown> {
  /** Command event type (it must be in the bus catalog). */
  event: EventDefinition;
  /** The command's data, from the context; checked against the event's schema. */
  data(context: StepContext<Input>): unknown;
  /** Reply types that complete the step; the step's output is the reply's data. */
  replies: readonly EventDefinition[];
  /** Reply types that fail the step (retried, then compensated like any failure). */
  failures?: readonly EventDefinition[];
  /**
   * Correlation key of a reply: it must equal the command's event id for the reply to reach this step.
   * Default: the reply's `causationid`, which a Keel publisher sets when it replies inside its handler.
   */
  correlate?(reply: CloudEvent): string | undefined;
}

/** Fields every kind of step has. */
export interface StepSpecBase<Input = unknown> {
  /** Unique within the workflow: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** Undoes the step when a later one fails (or the instance is cancelled or times out). */
  compensate?(context: CompensationContext<Input>): unknown;
  /**
   * Milliseconds an attempt may take: an action's signal aborts, a command or signal wait gives up.
   * A timed-out attempt is a failed attempt (retried per `retry`). Default: no limit.
   */
  timeoutMs?: number;
  /** Retries of a failed attempt; default 3 attempts, 200 ms doubling to 30 s. */
  retry?: RetryPolicy;
  /** Milliseconds from the step's first start to its SLA deadline; a breach is reported, not enforced. */
  slaMs?: number;
}

/** A step that runs code. */
export interface ActionStepSpec<Input = unknown> extends StepSpecBase<Input> {
  /** The step's work; its result (JSON) is the step's output. */
  action(context: StepContext<Input>): unknown;
}

/** A step that publishes a command and waits for its reply. */
export interface CommandStepSpec<Input = unknown> extends StepSpecBase<Input> {
  command: CommandSpec<Input>;
}

/** A step that waits for a signal sent with `engine.signal`; its output is the signal's payload. */
export interface SignalStepSpec<Input = unknown> extends StepSpecBase<Input> {
  /** Name of the signal awaited. */
  waitForSignal: string;
}

/** A durable delay. */
export interface SleepStepSpec<Input = unknown> extends StepSpecBase<Input> {
  /** Milliseconds to wait (fixed, or computed from the context when the step starts). */
  sleepMs: number | ((context: StepContext<Input>) => number);
}

/** One step as written in `defineWorkflow`. */
export type StepSpec<Input = unknown> =
  | ActionStepSpec<Input>
  | CommandStepSpec<Input>
  | SignalStepSpec<Input>
  | SleepStepSpec<Input>;

/** Starts an instance when an event of a type arrives on the bus. */
export interface WorkflowTrigger<Input = unknown> {
  /** Event type that starts an instance (it must be in the bus catalog). */
  event: EventDefinition;
  /** Correlation expression: the instance id for this event; events with one key start one instance. */
  key(event: CloudEvent): string;
  /** The instance's input, from the event. */
  input(event: CloudEvent): Input;
  /** Events for which this returns false start nothing; default all. */
  when?(event: CloudEvent): boolean;
}

/** How to declare a workflow. */
export interface WorkflowSpec<Schema extends z.ZodType = z.ZodType<unknown>> {
  /** Workflow id: letters, digits, `.`, `_`, `-` (it names the instance streams). */
  id: string;
  /** Integer version from 1; an instance runs to its end on the version it started with. */
  version: number;
  /** One-line description. */
  description?: string;
  /** Schema of the input, checked at start; default any JSON. */
  input?: Schema;
  /** The steps, run in order. */
  steps: readonly StepSpec<z.output<Schema>>[];
  /** Milliseconds from start to the instance's SLA deadline; a breach is reported (event, metric), not enforced. */
  slaMs?: number;
  /** Milliseconds from start after which the instance is compensated and ends as timed out. */
  timeoutMs?: number;
  /** Retries of a failing compensation before the instance needs an operator; default 5 attempts, 200 ms doubling to 30 s. */
  compensationRetry?: RetryPolicy;
  /** Events that start an instance of this version (only the newest registered version's triggers run). */
  triggers?: readonly WorkflowTrigger<z.output<Schema>>[];
}

/** Kind of a step. */
export type StepKind = 'action' | 'command' | 'signal' | 'sleep';

/**
 * A function type checked bivariantly in its parameters, as methods are: a definition whose steps take a
 * `StepContext<{ n: number }>` is still a `WorkflowDefinition` to code that holds any definition.
 */
export type Bivariant<Args extends unknown[], Result> = {
  bivariance(...args: Args): Result;
}['bivariance'];

/** A step as the engine holds it: its kind and its retry policy resolved. */
export interface WorkflowStep<Input = unknown> {
  readonly kind: StepKind;
  readonly name: string;
  /** Position in the workflow, from 0. */
  readonly index: number;
  readonly action: Bivariant<[context: StepContext<Input>], unknown> | undefined;
  readonly command: CommandSpec<Input> | undefined;
  readonly signal: string | undefined;
  readonly sleepMs: number | Bivariant<[context: StepContext<Input>], number> | undefined;
  readonly compensate: Bivariant<[context: CompensationContext<Input>], unknown> | undefined;
  /** Milliseconds an attempt may take; undefined is no limit. */
  readonly timeoutMs: number | undefined;
  readonly retry: ResolvedRetryPolicy;
  /** Milliseconds from the step's first start to its SLA deadline; undefined is none. */
  readonly slaMs: number | undefined;
}

/** A declared workflow: plain data, usable as a value and as a type. */
export interface WorkflowDefinition<Input = unknown> {
  readonly kind: 'workflow';
  readonly id: string;
  readonly version: number;
  readonly description: string | undefined;
  readonly input: z.ZodType<Input> | undefined;
  readonly steps: readonly WorkflowStep<Input>[];
  /** Milliseconds from start to the SLA deadline; undefined is none. */
  readonly slaMs: number | undefined;
  /** Milliseconds from start to the time-out; undefined is none. */
  readonly timeoutMs: number | undefined;
  readonly compensationRetry: ResolvedRetryPolicy;
  readonly triggers: readonly WorkflowTrigger<Input>[];
}

/** The input type of a workflow definition. */
export type WorkflowInput<Definition> = Definition extends WorkflowDefinition<infer Input> ? Input : never;

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,199}$/;

/** Default retry policy of a step: 3 attempts, 200 ms doubling up to 30 s. */
export const DEFAULT_STEP_RETRY: ResolvedRetryPolicy = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 200,
  factor: 2,
  maxDelayMs: 30_000,
});

/** Default retry policy of a compensation: 5 attempts, 200 ms doubling up to 30 s. */
export const DEFAULT_COMPENSATION_RETRY: ResolvedRetryPolicy = Object.freeze({
  ...DEFAULT_STEP_RETRY,
  maxAttempts: 5,
});

function positive(where: string, key: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isFinite(value) || value <= 0)) {
    throw new TypeError(`${where}: ${key} must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}

function resolveRetry(where: string, given: RetryPolicy | undefined, base: ResolvedRetryPolicy) {
  const policy = { ...base, ...given };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new TypeError(`${where}: retry.maxAttempts must be an integer ≥ 1, got ${policy.maxAttempts}`);
  }
  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) {
      throw new TypeError(`${where}: retry.${key} must be a number ≥ 0, got ${policy[key]}`);
    }
  }
  if (!Number.isFinite(policy.factor) || policy.factor < 1) {
    throw new TypeError(`${where}: retry.factor must be a number ≥ 1, got ${policy.factor}`);
  }
  return Object.freeze(policy);
}

function kindOf(where: string, spec: StepSpec<unknown>): StepKind {
  const kinds: StepKind[] = [];
  if ('action' in spec && spec.action !== undefined) kinds.push('action');
  if ('command' in spec && spec.command !== undefined) kinds.push('command');
  if ('waitForSignal' in spec && spec.waitForSignal !== undefined) kinds.push('signal');
  if ('sleepMs' in spec && spec.sleepMs !== undefined) kinds.push('sleep');
  if (kinds.length !== 1) {
    throw new TypeError(
      `${where}: a step has exactly one of action, command, waitForSignal or sleepMs (found ${kinds.length === 0 ? 'none' : kinds.join(', ')})`,
    );
  }
  return kinds[0]!;
}

function resolveStep<Input>(workflow: string, spec: StepSpec<Input>, index: number): WorkflowStep<Input> {
  const where = `defineWorkflow(${workflow}) step ${index + 1}`;
  if (typeof spec?.name !== 'string' || !NAME.test(spec.name)) {
    throw new TypeError(`${where}: name "${spec?.name}" must be letters, digits, '.', '_' or '-'`);
  }
  const at = `defineWorkflow(${workflow}) step "${spec.name}"`;
  const kind = kindOf(at, spec as StepSpec<unknown>);
  if (kind === 'command') {
    const command = (spec as CommandStepSpec<Input>).command;
    if (command.event?.kind !== 'event' || typeof command.data !== 'function') {
      throw new TypeError(`${at}: command needs an event definition and a data function`);
    }
    if (!Array.isArray(command.replies) || command.replies.length === 0) {
      throw new TypeError(`${at}: command needs at least one reply type`);
    }
  }
  if (kind === 'sleep') {
    const sleepMs = (spec as SleepStepSpec<Input>).sleepMs;
    if (typeof sleepMs === 'number') positive(at, 'sleepMs', sleepMs);
  }
  if (kind === 'signal' && !NAME.test((spec as SignalStepSpec<Input>).waitForSignal)) {
    throw new TypeError(`${at}: waitForSignal must name a signal (letters, digits, '.', '_' or '-')`);
  }
  return Object.freeze({
    kind,
    name: spec.name,
    index,
    action: kind === 'action' ? (spec as ActionStepSpec<Input>).action : undefined,
    command: kind === 'command' ? (spec as CommandStepSpec<Input>).command : undefined,
    signal: kind === 'signal' ? (spec as SignalStepSpec<Input>).waitForSignal : undefined,
    sleepMs: kind === 'sleep' ? (spec as SleepStepSpec<Input>).sleepMs : undefined,
    compensate: spec.compensate,
    timeoutMs: positive(at, 'timeoutMs', spec.timeoutMs),
    retry: resolveRetry(at, spec.retry, DEFAULT_STEP_RETRY),
    slaMs: positive(at, 'slaMs', spec.slaMs),
  });
}

/**
 * Declares a workflow: an id, an integer version and steps run in order, each an action (code), a
 * command with a correlated reply, a wait for a signal or a durable delay, with an optional
 * compensation, time-out and retry policy. Returns plain, frozen data; throws TypeError on a bad spec.
 */
export function defineWorkflow<Schema extends z.ZodType = z.ZodType<unknown>>(
  spec: WorkflowSpec<Schema>,
): WorkflowDefinition<z.output<Schema>> {
  type Input = z.output<Schema>;
  if (typeof spec.id !== 'string' || !NAME.test(spec.id)) {
    throw new TypeError(`defineWorkflow: id "${spec.id}" must be letters, digits, '.', '_' or '-'`);
  }
  const where = `defineWorkflow(${spec.id})`;
  if (!Number.isInteger(spec.version) || spec.version < 1) {
    throw new TypeError(`${where}: version must be an integer ≥ 1, got ${spec.version}`);
  }
  if (!Array.isArray(spec.steps) || spec.steps.length === 0) {
    throw new TypeError(`${where}: a workflow needs at least one step`);
  }
  const steps = spec.steps.map((step, index) => resolveStep<Input>(spec.id, step, index));
  const names = new Set<string>();
  for (const step of steps) {
    if (names.has(step.name)) throw new TypeError(`${where}: step name "${step.name}" is used twice`);
    names.add(step.name);
  }
  for (const trigger of spec.triggers ?? []) {
    if (trigger.event?.kind !== 'event' || typeof trigger.key !== 'function') {
      throw new TypeError(`${where}: a trigger needs an event definition and a key function`);
    }
  }
  return Object.freeze({
    kind: 'workflow' as const,
    id: spec.id,
    version: spec.version,
    description: spec.description,
    input: spec.input as z.ZodType<Input> | undefined,
    steps: Object.freeze(steps),
    slaMs: positive(where, 'slaMs', spec.slaMs),
    timeoutMs: positive(where, 'timeoutMs', spec.timeoutMs),
    compensationRetry: resolveRetry(`${where} compensationRetry`, spec.compensationRetry, {
      ...DEFAULT_COMPENSATION_RETRY,
    }),
    triggers: Object.freeze([...(spec.triggers ?? [])]),
  });
}

/**
 * A typed command spec: `data` is checked against the command event's data type. Use it in a step's
 * `command` field when you want the compiler to check the data.
 */
export function command<Input, Definition extends EventDefinition>(
  event: Definition,
  data: (context: StepContext<Input>) => EventData<Definition>,
  options: Omit<CommandSpec<Input>, 'event' | 'data'>,
): CommandSpec<Input> {
  return { event, data, ...options };
}

/** A typed trigger: `key` and `input` receive events of the given type. */
export function trigger<Input, Definition extends EventDefinition>(
  event: Definition,
  spec: {
    key: (event: CloudEvent<EventData<Definition>>) => string;
    input: (event: CloudEvent<EventData<Definition>>) => Input;
    when?: (event: CloudEvent<EventData<Definition>>) => boolean;
  },
): WorkflowTrigger<Input> {
  return {
    event,
    key: spec.key as (event: CloudEvent) => string,
    input: spec.input as (event: CloudEvent) => Input,
    ...(spec.when === undefined ? {} : { when: spec.when as (event: CloudEvent) => boolean }),
  };
}
