import type { Catalog } from '../../events/catalog.ts';
import type { TopicConfig, Transport } from '../../transport/transport.ts';
import { SystemTopic } from '../system-events.ts';

/** The topics a router reads and writes, with their partition counts. */
export interface RouterTopics {
  /** Topics the group consumes: its handlers' source topics and its delayed-retry topics, sorted. */
  consumed: string[];
  /** Partitions of each source, retry and dead-letter topic. */
  partitions: Map<string, number>;
}

/**
 * Creates the group's retry and dead-letter topics (as many partitions and replicas as its widest
 * source topic) and Keel's system topic, if missing; returns what the group consumes.
 */
export async function ensureRouterTopics(
  transport: Transport,
  catalog: Catalog,
  types: Iterable<string>,
  retryTopics: readonly string[],
  dlqTopic: string,
): Promise<RouterTopics> {
  const sources = [...new Set([...types].map((type) => catalog.route(type).topic))];
  const partitions = Math.max(...sources.map((topic) => topic.partitions));
  const replication = Math.max(...sources.map((topic) => topic.replication));
  const own: TopicConfig[] = [...retryTopics, dlqTopic].map((name) => ({ name, partitions, replication }));
  await transport.ensureTopics([
    ...own,
    { name: SystemTopic.name, partitions: SystemTopic.partitions, replication },
  ]);
  return {
    consumed: [...sources.map((topic) => topic.name), ...retryTopics].sort(),
    partitions: new Map([
      ...sources.map((topic) => [topic.name, topic.partitions] as const),
      ...own.map((topic) => [topic.name, topic.partitions] as const),
    ]),
  };
}
