import { randomBytes } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import type { KafkaTransportOptions } from '../../transport/kafka/index.ts';
import { createKafkaTransport, type KafkaTransport } from '../../transport/kafka/index.ts';
import { testBrokers } from '../../transport/kafka/test-support/kafka-test-cluster.ts';

let counter = 0;

/** A prefix unique across runs on the long-lived cluster, so a test never meets another's topics or groups. */
export function kafkaTestPrefix(label: string): string {
  return `keel-${label}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}-${++counter}`;
}

/**
 * Options for bus tests on Kafka: heartbeats every 250 ms so joins and leaves are noticed quickly, and
 * an append that fails after about 2 s when the brokers are gone (instead of the 120 s default), so
 * the publisher's retries, breaker and buffer see an outage as it happens.
 */
export function kafkaBusTestOptions(): KafkaTransportOptions {
  return {
    brokers: testBrokers(),
    clientId: 'keel-bus-test',
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 2_000,
    producer: { deliveryTimeoutMs: 2_000 },
    consumer: { heartbeatIntervalMs: 250 },
    logger: pino({ level: 'silent' }),
  };
}

/** Opens a Kafka transport for one bus test. */
export function openKafkaTestTransport(): KafkaTransport {
  return createKafkaTransport(kafkaBusTestOptions());
}

/** Deletes every topic whose name starts with `prefix` (the test's own, its groups' retry and DLQ topics). */
export async function deleteKafkaTopicsWithPrefix(prefix: string): Promise<void> {
  const admin = new Admin({ clientId: 'keel-bus-test-cleanup', bootstrapBrokers: testBrokers(), retries: 1 });
  try {
    const doomed = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
  } catch {
    // Cleanup is a courtesy to the shared cluster: names are unique, so a leftover never breaks a test.
  } finally {
    await admin.close();
  }
}
