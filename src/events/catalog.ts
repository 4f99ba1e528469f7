import { z } from 'zod';
import type { EventDefinition } from './define-event.ts';
import type { TopicDefinition } from './define-topic.ts';
import { UnknownEventTypeError } from './errors.ts';

/** How to build a catalog. */
export interface CatalogSpec {
  /** Every topic; the events they carry join the catalog. */
  topics: readonly TopicDefinition[];
  /** Event definitions not yet on a topic (listed, validated, but not publishable). */
  events?: readonly EventDefinition[];
  /** Topic that receives events of unknown types; undefined rejects them. */
  untypedTopic?: TopicDefinition;
}

/** Where an event type goes and how it is checked. */
export interface CatalogEntry {
  definition: EventDefinition | undefined;
  topic: TopicDefinition;
}

/** Every event and topic definition of a deployment, looked up by type or name. */
export interface Catalog {
  /** Every event definition, sorted by type. */
  readonly events: readonly EventDefinition[];
  /** Every topic definition, sorted by name (the untyped topic included). */
  readonly topics: readonly TopicDefinition[];
  /** Topic for events of unknown types, when allowed. */
  readonly untypedTopic: TopicDefinition | undefined;
  /** Definition of an event type, or undefined. */
  event(type: string): EventDefinition | undefined;
  /** Topic by name, or undefined. */
  topic(name: string): TopicDefinition | undefined;
  /** Definition and topic for an event type; throws UnknownEventTypeError when neither the catalog nor an untyped topic takes it. */
  route(type: string): CatalogEntry;
  /** JSON Schema (draft 2020-12) of each event type's current data, keyed by type. */
  jsonSchemas(): Record<string, Record<string, unknown>>;
}

/** Builds a catalog; throws when two definitions claim one type or name. */
export function createCatalog(spec: CatalogSpec): Catalog {
  const events = new Map<string, EventDefinition>();
  const topics = new Map<string, TopicDefinition>();
  const topicOfType = new Map<string, TopicDefinition>();

  const addEvent = (definition: EventDefinition) => {
    const existing = events.get(definition.type);
    if (existing && existing !== definition) {
      throw new TypeError(`catalog: event type "${definition.type}" is defined twice`);
    }
    events.set(definition.type, definition);
  };
  const allTopics = spec.untypedTopic ? [...spec.topics, spec.untypedTopic] : spec.topics;
  for (const topic of allTopics) {
    if (topics.has(topic.name)) throw new TypeError(`catalog: topic "${topic.name}" is defined twice`);
    topics.set(topic.name, topic);
    for (const definition of topic.events) {
      addEvent(definition);
      const other = topicOfType.get(definition.type);
      if (other) {
        throw new TypeError(
          `catalog: event type "${definition.type}" is on two topics ("${other.name}" and "${topic.name}")`,
        );
      }
      topicOfType.set(definition.type, topic);
    }
  }
  for (const definition of spec.events ?? []) addEvent(definition);

  const sortedEvents = [...events.values()].sort((a, b) => a.type.localeCompare(b.type));
  const sortedTopics = [...topics.values()].sort((a, b) => a.name.localeCompare(b.name));

  return {
    events: sortedEvents,
    topics: sortedTopics,
    untypedTopic: spec.untypedTopic,
    event: (type) => events.get(type),
    topic: (name) => topics.get(name),
    route(type) {
      const topic = topicOfType.get(type);
      if (topic) return { definition: events.get(type), topic };
      if (spec.untypedTopic && !events.has(type)) return { definition: undefined, topic: spec.untypedTopic };
      throw new UnknownEventTypeError(type);
    },
    jsonSchemas() {
      return Object.fromEntries(
        sortedEvents.map((definition) => [
          definition.type,
          {
            ...z.toJSONSchema(definition.schema, { io: 'input', unrepresentable: 'any' }),
            title: definition.type,
            description: definition.description,
            'x-keel-version': definition.version,
          },
        ]),
      );
    },
  };
}
