import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import type { Transport } from '../../transport/transport.ts';
import {
  deleteKafkaTopicsWithPrefix,
  kafkaTestPrefix,
  openKafkaTestTransport,
} from './kafka-test-transport.ts';

/** A transport opened for one test, and how to dispose of it. */
export interface OpenedTransport {
  transport: Transport;
  /** Unique prefix for this test's topics and groups, so tests on a shared broker never meet. */
  prefix: string;
  close(): Promise<void>;
}

/** A transport the bus tests run on. */
export interface TestTransport {
  name: string;
  open(): Promise<OpenedTransport>;
}

let counter = 0;

/** The embedded transport on a fresh SQLite file. */
export const embeddedTestTransport: TestTransport = {
  name: 'embedded',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'keel-bus-'));
    const transport = createEmbeddedTransport({
      path: join(dir, 'keel.db'),
      logger: pino({ level: 'silent' }),
    });
    return {
      transport,
      prefix: `t${process.pid}-${++counter}`,
      async close() {
        await transport.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The Kafka transport on the test cluster (`test/setup/kafka-cluster.ts`), topics deleted on close. */
export const kafkaTestTransport: TestTransport = {
  name: 'kafka',
  async open() {
    const transport = openKafkaTestTransport();
    const prefix = kafkaTestPrefix('bus');
    return {
      transport,
      prefix,
      async close() {
        await transport.close();
        await deleteKafkaTopicsWithPrefix(prefix);
      },
    };
  },
};

/** Every transport the bus's behaviour tests run on (each adapter adds itself here). */
export const testTransports: readonly TestTransport[] = [embeddedTestTransport, kafkaTestTransport];
