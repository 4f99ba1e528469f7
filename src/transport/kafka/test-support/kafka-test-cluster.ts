import { randomBytes } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { inject } from 'vitest';
import type { KafkaTransportOptions } from '../kafka-options.ts';
import { createKafkaTransport, type KafkaTransport } from '../kafka-transport.ts';

/** Bootstrap servers of the test cluster (from the global setup, `test/setup/kafka-cluster.ts`). */
export function testBrokers(): string[] {
  const brokers = process.env.KEEL_KAFKA_BROKERS?.trim() || inject('kafkaBrokers');
  return brokers.split(',').map((b) => b.trim());
}

/** A prefix no earlier run used, so tests on a long-lived cluster never meet old topics or groups. */
export function runPrefix(label: string): string {
  return `keel-test-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Opens transports on the test cluster and remembers the topics and groups a test names, so `cleanup` can
 * close every transport and delete them.
 */
export interface KafkaTestHarness {
  open(options?: Partial<KafkaTransportOptions>): KafkaTransport;
  /** A fresh topic name (recorded for deletion). */
  topic(label: string): string;
  /** A fresh group id. */
  group(label: string): string;
  cleanup(): Promise<void>;
}

/** Creates a harness whose names start with a fresh prefix. */
export function kafkaTestHarness(
  label: string,
  defaults: Partial<KafkaTransportOptions> = {},
): KafkaTestHarness {
  const prefix = runPrefix(label);
  const transports: KafkaTransport[] = [];
  const topics = new Set<string>();
  const groups = new Set<string>();
  let sequence = 0;
  return {
    open: (options = {}) => {
      const transport = createKafkaTransport({
        brokers: testBrokers(),
        clientId: 'keel-test',
        ...defaults,
        ...options,
      });
      transports.push(transport);
      return transport;
    },
    topic: (name) => {
      const topic = `${prefix}-${name}-${++sequence}`;
      topics.add(topic);
      return topic;
    },
    group: (name) => {
      const group = `${prefix}-group-${name}-${++sequence}`;
      groups.add(group);
      return group;
    },
    cleanup: async () => {
      await Promise.allSettled(transports.splice(0).map((t) => t.close()));
      if (topics.size > 0) {
        const transport = createKafkaTransport({ brokers: testBrokers(), clientId: 'keel-test-cleanup' });
        try {
          await transport.deleteTopics([...topics]);
          topics.clear();
        } finally {
          await transport.close();
        }
      }
      if (groups.size > 0) {
        // Groups a crashed member left behind are still live until it expires: those are left to the broker.
        const admin = new Admin({
          clientId: 'keel-test-cleanup',
          bootstrapBrokers: testBrokers(),
          retries: 0,
        });
        const doomed = [...groups];
        groups.clear();
        await Promise.allSettled(doomed.map((group) => admin.deleteGroups({ groups: [group] })));
        await admin.close();
      }
    },
  };
}
