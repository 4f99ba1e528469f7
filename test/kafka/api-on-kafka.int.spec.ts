import { afterAll, beforeAll, describe } from 'vitest';
import { deadLetterTopic } from '../../src/bus/dead-letter/topic-names.ts';
import { type ApiFixture, patientCatalog } from '../../src/server/test-support/api-fixture.ts';
import { deadLettersSuite } from '../../src/server/test-support/dead-letters-suite.ts';
import { groupsSuite } from '../../src/server/test-support/groups-suite.ts';
import { liveSuite } from '../../src/server/test-support/live-suite.ts';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import { topicsSuite } from '../../src/server/test-support/topics-suite.ts';
import { transferSuite } from '../../src/server/test-support/transfer-suite.ts';
import type { KafkaTransport } from '../../src/transport/kafka/kafka-transport.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';

// The same API suites as on the embedded transport, against a node on the Kafka test cluster.
const harness = kafkaTestHarness('api');
const groups: string[] = [];
let temp: TempNode | undefined;
let fixture: ApiFixture;

beforeAll(async () => {
  const topic = harness.topic('patients');
  temp = await startTempNode({
    catalog: patientCatalog(topic),
    config: { transport: 'kafka', kafkaBrokers: testBrokers() },
  });
  const node = temp.node;
  fixture = {
    node,
    topic,
    group: (label) => {
      const group = harness.group(label);
      groups.push(group);
      return group;
    },
    totalRecords: async () => {
      let total = 0n;
      for (const name of [topic, ...groups.map(deadLetterTopic)]) {
        if (!(await node.transport.describeTopic(name))) continue;
        for (const partition of await node.transport.offsets(name)) total += partition.latest;
      }
      return total;
    },
    close: async () => temp?.close(),
  };
}, 60_000);

afterAll(async () => {
  if (temp) {
    await (temp.node.transport as KafkaTransport).deleteTopics(groups.map(deadLetterTopic)).catch(() => {});
    await temp.close();
  }
  await harness.cleanup();
}, 60_000);

describe('HTTP API on Kafka', () => {
  describe('topics', () => topicsSuite(() => fixture));
  describe('consumer groups', () => groupsSuite(() => fixture, { sessionTimeoutMs: 10_000 }));
  describe('dead letters', () => deadLettersSuite(() => fixture));
  describe('live tail', () => liveSuite(() => fixture));
  describe('export and import', () =>
    transferSuite(
      () => fixture,
      async () => {
        const topic = harness.topic('imported');
        const target = await startTempNode({
          catalog: patientCatalog(topic),
          config: { transport: 'kafka', kafkaBrokers: testBrokers() },
        });
        return { node: target.node, topic, close: () => target.close() };
      },
    ));
});
