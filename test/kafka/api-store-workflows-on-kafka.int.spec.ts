import { afterAll, beforeAll, describe } from 'vitest';
import { deadLetterTopic } from '../../src/bus/dead-letter/topic-names.ts';
import { type ApiFixture, patientCatalog } from '../../src/server/test-support/api-fixture.ts';
import { catalogSuite } from '../../src/server/test-support/catalog-suite.ts';
import { figuresSuite } from '../../src/server/test-support/figures-suite.ts';
import { patientCounts, storeSuite } from '../../src/server/test-support/store-suite.ts';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import { traceSuite } from '../../src/server/test-support/trace-suite.ts';
import { apiWorkflows, workflowsSuite } from '../../src/server/test-support/workflows-suite.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../src/test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../src/test-support/postgres-lock.ts';
import type { KafkaTransport } from '../../src/transport/kafka/kafka-transport.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';

// The same suites on the other pair: the bus on the Kafka test cluster, the event store on PostgreSQL.
usePostgresTestLock();
const harness = kafkaTestHarness('store-api');
const schema = testSchemaName('api');
let temp: TempNode | undefined;
const groups: string[] = [];
let fixture: ApiFixture;

beforeAll(async () => {
  const topic = harness.topic('patients');
  temp = await startTempNode({
    catalog: patientCatalog(topic),
    config: {
      transport: 'kafka',
      kafkaBrokers: testBrokers(),
      store: 'postgres',
      postgresUrl,
      postgresSchema: schema,
    },
    projections: [patientCounts],
    workflows: apiWorkflows,
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
    totalRecords: async () => 0n,
    close: async () => temp?.close(),
  };
}, 60_000);

afterAll(async () => {
  if (temp) {
    const kafka = temp.node.transport as KafkaTransport;
    await kafka.deleteTopics(groups.map(deadLetterTopic)).catch(() => {});
  }
  await temp?.close();
  await harness.cleanup();
  const admin = adminConnection();
  await dropSchema(admin, schema);
  await admin.end();
}, 60_000);

describe('HTTP API on Kafka and the PostgreSQL store', () => {
  describe('store', () => storeSuite(() => fixture));
  describe('trace', () => traceSuite(() => fixture));
  describe('workflows', () => workflowsSuite(() => fixture));
  describe('catalog types', () => catalogSuite(() => fixture));
  describe('figures', () => figuresSuite(() => fixture));
});
