import { PatientCreated, PatientUpdated } from '../../../examples/catalog.ts';
import { withFailure } from '../../bus/dead-letter/failure-headers.ts';
import { deadLetterTopic } from '../../bus/dead-letter/topic-names.ts';
import type { Catalog } from '../../events/catalog.ts';
import { createCatalog } from '../../events/catalog.ts';
import { defineTopic } from '../../events/define-topic.ts';
import type { StoredRecord } from '../../transport/transport.ts';
import type { KeelNode } from '../node.ts';

/** A catalog with the example patient events on one topic of three partitions. */
export function patientCatalog(topic: string): Catalog {
  return createCatalog({
    topics: [defineTopic({ name: topic, partitions: 3, events: [PatientCreated, PatientUpdated] })],
  });
}

/** What an API test suite runs against: a started node and fresh names on its transport. */
export interface ApiFixture {
  node: KeelNode;
  /** The catalog's topic (three partitions). */
  topic: string;
  /** A group id no other test used. */
  group(label: string): string;
  /** Sum of every topic's log end offsets: unchanged means nothing was written. */
  totalRecords(): Promise<bigint>;
  close(): Promise<void>;
}

/** Sends a request to the node's app (in process) with an optional JSON body and headers. */
export function request(
  node: KeelNode,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return node.app.inject({
    method,
    url,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });
}

/** Publishes `count` patient events (keys `p-0` ...), the even ones with a correlation id and tenant. */
export async function seedPatients(node: KeelNode, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await node.publisher.publish(
      PatientCreated,
      { patientId: `p-${i}`, firstName: 'Ada', lastName: `L${i}`, dateOfBirth: '1815-12-10' },
      i % 2 === 0 ? { correlationId: 'corr-even', tenantId: 'north' } : {},
    );
  }
}

/** Every record of a topic, partition by partition. */
export async function allRecords(node: KeelNode, topic: string): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  for (const { partition, earliest, latest } of await node.transport.offsets(topic)) {
    if (latest > earliest) records.push(...(await node.transport.read(topic, partition, earliest, 10_000)));
  }
  return records;
}

/** Puts these records in the group's DLQ as failures of `errorType` by `handler` (creating the topic). */
export async function seedDeadLetters(
  node: KeelNode,
  group: string,
  records: readonly StoredRecord[],
  errorType: string,
  handler: string,
  /** Marks the records as a parked chain: the first its head, the others waiting behind it. */
  chain = false,
): Promise<void> {
  const topic = deadLetterTopic(group);
  await node.transport.ensureTopics([{ name: topic, partitions: 1 }]);
  const now = Date.now();
  await node.transport.append([
    {
      topic,
      partition: 0,
      records: records.map((record, i) =>
        withFailure(record, {
          ...(chain ? { parked: i === 0 ? ('head' as const) : ('follower' as const) } : {}),
          errorType,
          errorMessage: `${errorType} in ${handler}`,
          errorStack: `${errorType}: boom\n    at handler`,
          attempts: 3,
          handler,
          firstFailureAt: now - 60_000,
          lastFailureAt: now,
          sourceTopic: record.topic,
          sourcePartition: record.partition,
          sourceOffset: record.offset,
        }),
      ),
    },
  ]);
}
