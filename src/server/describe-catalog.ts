import type { Catalog } from '../events/catalog.ts';

/** One event type as `GET /v1/catalog` lists it. */
export interface CatalogEventView {
  type: string;
  version: number;
  /** Topic the type is published to; null for a type listed but on no topic. */
  topic: string | null;
  description: string | null;
}

/** One topic as `GET /v1/catalog` lists it. */
export interface CatalogTopicView {
  name: string;
  partitions: number;
  compacted: boolean;
  /** Milliseconds records are kept; null keeps them forever. */
  retentionMs: number | null;
  /** Event types it carries. */
  events: string[];
  description: string | null;
}

/** The catalog as data for clients (the HTTP API and `keel catalog --json`). */
export interface CatalogView {
  events: CatalogEventView[];
  topics: CatalogTopicView[];
  /** Topic that takes events of unknown types; null when they are rejected. */
  untypedTopic: string | null;
}

/** Describes a catalog as plain JSON-ready data. */
export function describeCatalog(catalog: Catalog): CatalogView {
  const topicOf = new Map<string, string>();
  for (const topic of catalog.topics) for (const event of topic.events) topicOf.set(event.type, topic.name);
  return {
    events: catalog.events.map((event) => ({
      type: event.type,
      version: event.version,
      topic: topicOf.get(event.type) ?? null,
      description: event.description ?? null,
    })),
    topics: catalog.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions,
      compacted: topic.compacted,
      retentionMs: topic.retentionMs ?? null,
      events: topic.events.map((event) => event.type),
      description: topic.description ?? null,
    })),
    untypedTopic: catalog.untypedTopic?.name ?? null,
  };
}
