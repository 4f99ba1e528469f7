import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Publisher } from '../bus/publisher-port.ts';
import { parseOptions } from '../errors/options.ts';
import type { Catalog } from '../events/catalog.ts';
import type { EventStore } from '../store/event-store.ts';
import type { Transport } from '../transport/transport.ts';
import type { WorkflowBackend } from './backend.ts';
import type { WorkflowDefinition } from './define-workflow.ts';
import type { WorkflowTransition } from './drive-types.ts';
import type { WorkflowBusOptions, WorkflowEngineOptions } from './engine-types.ts';
import type { WorkflowMetrics } from './metrics.ts';

/** Default consumer group of the engine's router. */
export const DEFAULT_WORKFLOW_GROUP = 'keel-workflows';

/** Default CloudEvents `source` of history events. */
export const DEFAULT_WORKFLOW_SOURCE = 'urn:keel:workflows';

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;
const isFunction = (value: unknown): boolean => typeof value === 'function';
const positiveInt = z.int({ error: 'expected an integer ≥ 1' }).min(1, { error: 'expected an integer ≥ 1' });
const positiveMs = z
  .number({ error: 'expected milliseconds > 0' })
  .positive({ error: 'expected milliseconds > 0' });
const millis = z
  .number({ error: 'expected milliseconds ≥ 0' })
  .min(0, { error: 'expected milliseconds ≥ 0' });

/** `<hostname>:<pid>:<random>`: the default name of this process in leases. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** The engine's options with their defaults (see `WorkflowEngineOptions` for what each means). */
export const workflowEngineOptionsSchema = z.object({
  store: z.custom<EventStore>(isObject, { error: 'expected an event store' }),
  backend: z.custom<WorkflowBackend>(isObject, { error: 'expected a workflow backend' }),
  workflows: z
    .custom<readonly WorkflowDefinition[]>(Array.isArray, { error: 'expected an array of definitions' })
    .default([]),
  bus: z
    .object({
      transport: z.custom<Transport>(isObject, { error: 'expected a transport' }),
      catalog: z.custom<Catalog>(isObject, { error: 'expected a catalog' }),
      publisher: z.custom<Publisher>(isObject, { error: 'expected a publisher' }).optional(),
      group: z.string().min(1, { error: 'expected a non-empty string' }).default(DEFAULT_WORKFLOW_GROUP),
      router: z
        .custom<WorkflowBusOptions['router']>(isObject, { error: 'expected router options' })
        .optional(),
    })
    .optional(),
  metrics: z.custom<WorkflowMetrics>(isObject, { error: 'expected workflow metrics' }).optional(),
  logger: z.custom<Logger>(isObject, { error: 'expected a pino logger' }).optional(),
  workerId: z.string().min(1, { error: 'expected a non-empty string' }).default(defaultWorkerId),
  concurrency: positiveInt.default(64),
  leaseTtlMs: positiveMs.default(10_000),
  pollIntervalMs: millis.default(250),
  claimBatch: positiveInt.default(32),
  slaRiskWindowMs: millis.default(300_000),
  source: z.string().min(1, { error: 'expected a non-empty string' }).default(DEFAULT_WORKFLOW_SOURCE),
  onTransition: z
    .custom<(transition: WorkflowTransition) => void | Promise<void>>(isFunction, {
      error: 'expected a function',
    })
    .optional(),
});

/** The engine's options as parsed: every default applied. */
export type WorkflowEngineSettings = z.output<typeof workflowEngineOptionsSchema>;

/** The engine's bus options as parsed. */
export type WorkflowBusSettings = NonNullable<WorkflowEngineSettings['bus']>;

/** Checks the engine's options once, at its factory's entry; an OptionsError names each broken key. */
export function parseWorkflowEngineOptions(options: WorkflowEngineOptions): WorkflowEngineSettings {
  return parseOptions(workflowEngineOptionsSchema, options, 'workflow engine');
}
