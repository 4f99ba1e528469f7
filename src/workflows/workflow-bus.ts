import type { Logger } from 'pino';
import { createPublisher } from '../bus/publisher.ts';
import type { Publisher } from '../bus/publisher-port.ts';
import { createRouter } from '../bus/router.ts';
import type { Router } from '../bus/router-port.ts';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventDefinition } from '../events/define-event.ts';
import type { TopicConfig } from '../transport/transport.ts';
import type { WorkflowBackend } from './backend.ts';
import type { WorkflowDefinition, WorkflowTrigger } from './define-workflow.ts';
import type { WorkflowBusSettings } from './engine-options.ts';
import type { StartOptions } from './engine-types.ts';
import type { WorkflowRegistry } from './registry.ts';
import { WorkflowSlaBreached } from './workflow-events.ts';

/** How the router hands one event type to the engine: replies to deliver, triggers to fire. */
export interface BusRoute {
  definition: EventDefinition;
  correlates: Set<(reply: CloudEvent) => string | undefined>;
  triggers: { workflow: WorkflowDefinition; trigger: WorkflowTrigger }[];
}

const byCausation = (reply: CloudEvent): string | undefined => reply.causationid;

/** The event types the engine consumes, by type: replies of command steps, and triggers of the newest versions. */
export function busRoutes(registry: WorkflowRegistry): Map<string, BusRoute> {
  const routes = new Map<string, BusRoute>();
  const routeOf = (definition: EventDefinition) => {
    let route = routes.get(definition.type);
    if (route === undefined) {
      route = { definition, correlates: new Set(), triggers: [] };
      routes.set(definition.type, route);
    }
    return route;
  };
  const latest = new Map<string, WorkflowDefinition>();
  for (const definition of registry.all()) {
    latest.set(definition.id, definition);
    for (const step of definition.steps) {
      const command = step.command;
      if (command === undefined) continue;
      for (const reply of [...command.replies, ...(command.failures ?? [])]) {
        routeOf(reply).correlates.add(command.correlate ?? byCausation);
      }
    }
  }
  for (const workflow of latest.values()) {
    for (const trigger of workflow.triggers) routeOf(trigger.event).triggers.push({ workflow, trigger });
  }
  return routes;
}

/** What the engine's bus needs from the engine. */
export interface WorkflowBusDependencies {
  bus: WorkflowBusSettings;
  backend: WorkflowBackend;
  registry: WorkflowRegistry;
  /** CloudEvents `source` of the engine's own publisher. */
  source: string;
  logger: Logger;
  /** Wakes the claim loop (a reply reached an inbox). */
  kick(): void;
  /** Starts an instance (a trigger fired). */
  start(workflow: WorkflowDefinition, input: unknown, options: StartOptions): Promise<unknown>;
}

/** The engine's bus once started: its publisher, whether it publishes SLA breaches, and how to close it. */
export interface WorkflowBus {
  publisher: Publisher;
  /** Whether the catalog routes `WorkflowSlaBreached` (so breaches are published). */
  publishesBreaches: boolean;
  /** Stops the router (replies and triggers), waiting up to `deadlineMs` for its handlers. */
  closeRouter(deadlineMs: number): Promise<void>;
  /** Closes the publisher if the engine created it. */
  closePublisher(): Promise<void>;
}

/** The topic config of the topic `type` is routed to. */
function topicOf(catalog: Catalog, type: string): TopicConfig {
  const { topic } = catalog.route(type);
  return {
    name: topic.name,
    partitions: topic.partitions,
    replication: topic.replication,
    compacted: topic.compacted,
    ...(topic.retentionMs === undefined ? {} : { retentionMs: topic.retentionMs }),
    ...(topic.retentionBytes === undefined ? {} : { retentionBytes: topic.retentionBytes }),
  };
}

/** Hands one consumed event to the instance waiting on it (a reply) and to the triggers it fires. */
async function onBusEvent(deps: WorkflowBusDependencies, route: BusRoute, event: CloudEvent): Promise<void> {
  for (const correlate of route.correlates) {
    const key = correlate(event);
    if (key === undefined || key === '') continue;
    const instanceId = await deps.backend.deliverReply(key, event, Date.now());
    if (instanceId !== undefined) {
      deps.kick();
      break;
    }
  }
  for (const { workflow, trigger } of route.triggers) {
    if (trigger.when !== undefined && !trigger.when(event)) continue;
    await deps.start(workflow, trigger.input(event), {
      instanceId: trigger.key(event),
      ...(event.tenantid === undefined ? {} : { tenantId: event.tenantid }),
      correlationId: event.correlationid ?? event.id,
      causationId: event.id,
    });
  }
}

/**
 * Starts the engine's bus: ensures the topics of commands, replies, triggers (and breaches) exist and
 * starts a router consuming replies and triggers (when there are any).
 */
export async function startWorkflowBus(deps: WorkflowBusDependencies): Promise<WorkflowBus> {
  const { bus, registry, logger } = deps;
  const { transport, catalog } = bus;
  const ownPublisher =
    bus.publisher === undefined
      ? createPublisher({ transport, catalog, source: deps.source, logger, name: 'workflows' })
      : undefined;
  const publisher = bus.publisher ?? ownPublisher!;
  const routes = busRoutes(registry);
  const topics = new Map<string, TopicConfig>();
  const addTopic = (type: string) => {
    const topic = topicOf(catalog, type);
    topics.set(topic.name, topic);
  };
  for (const type of routes.keys()) addTopic(type);
  for (const definition of registry.all()) {
    for (const step of definition.steps) if (step.command !== undefined) addTopic(step.command.event.type);
  }
  const publishesBreaches = catalog.event(WorkflowSlaBreached.type) !== undefined;
  if (publishesBreaches) addTopic(WorkflowSlaBreached.type);
  if (topics.size > 0) await transport.ensureTopics([...topics.values()]);
  let router: Router | undefined;
  if (routes.size > 0) {
    router = createRouter({
      shutdownSignals: [],
      ...bus.router,
      transport,
      catalog,
      group: bus.group,
      logger,
    });
    for (const route of routes.values()) {
      router.on(route.definition, (event) => onBusEvent(deps, route, event as CloudEvent));
    }
    await router.start();
  }
  return {
    publisher,
    publishesBreaches,
    closeRouter: async (deadlineMs) => {
      await router?.close(deadlineMs);
    },
    closePublisher: async () => {
      await ownPublisher?.close();
    },
  };
}
