import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import { ensureCluster, NODE_IDS, stopNode } from '../../../scripts/kafka.mjs';
import { runScript } from '../../test-support/child-process.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import {
  deleteKafkaTopicsWithPrefix,
  kafkaTestPrefix,
  openKafkaTestTransport,
} from './kafka-test-transport.ts';
import { publishingCatalog } from './publishing-catalog.ts';
import type { OpenedTransport, TestTransport } from './transports.ts';

/** A real outage of a transport's backing service, in progress. */
export interface Outage {
  /** Ends the outage; resolves once the transport can be reached again. */
  end(): Promise<void>;
}

/** A transport opened for one publisher test: the bus tests' transport, plus a way to break it for real. */
export interface PublishingTestTransport extends OpenedTransport {
  /** Folder for files the test creates (publish buffers); removed by `close`. */
  dir: string;
  /**
   * Makes appends fail for real until `end()`: on the embedded transport another process holds the
   * SQLite write lock (BEGIN EXCLUSIVE); on Kafka the brokers are stopped.
   */
  startOutage(): Promise<Outage>;
}

/** A transport the publisher's tests run on. */
export interface PublishingTestTarget extends Pick<TestTransport, 'name'> {
  open(): Promise<PublishingTestTransport>;
  /**
   * True where an outage costs a full cluster stop and restart (15-20 s on Kafka): there the suite proves
   * the outage pattern once and leaves its variations to the transports where outages are cheap.
   */
  slowOutages: boolean;
}

/** Milliseconds an embedded append waits for the write lock before failing with SQLITE_BUSY in these tests. */
export const EMBEDDED_BUSY_TIMEOUT_MS = 100;

let counter = 0;

/** The embedded transport on a fresh SQLite file, whose appends fail after 100 ms when another process holds the lock. */
export const embeddedPublishingTarget: PublishingTestTarget = {
  name: 'embedded',
  slowOutages: false,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'keel-publishing-'));
    const path = join(dir, 'keel.db');
    const transport = createEmbeddedTransport({
      path,
      busyTimeoutMs: EMBEDDED_BUSY_TIMEOUT_MS,
      maintenanceIntervalMs: 0,
      logger: pino({ level: 'silent' }),
    });
    const children: Array<ReturnType<typeof runScript>> = [];
    return {
      transport,
      dir,
      prefix: `p${process.pid}-${++counter}`,
      async startOutage() {
        const child = runScript(new URL('./hold-write-lock.ts', import.meta.url).href, [path]);
        children.push(child);
        await child.waitForLine((line) => line === 'locked', 10_000);
        return {
          async end() {
            child.process.stdin?.write('release\n');
            await child.waitForLine((line) => line === 'released', 10_000);
            await child.exited;
          },
        };
      },
      async close() {
        await Promise.all(children.map((child) => child.kill()));
        await transport.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Milliseconds a stopping broker gets for its controlled shutdown before it is killed (the last one has no quorum left). */
const BROKER_STOP_TIMEOUT_MS = 3_000;

/**
 * The Kafka transport on the local test cluster, whose outage stops all three brokers (scripts/kafka.mjs)
 * and whose end starts them again and waits until the cluster is healthy. An append fails about 2 s after
 * the brokers are gone (kafkaBusTestOptions). Files using it run after every other test file, one at a
 * time (the `cluster-outages` project in vitest.config.ts): a stopped cluster would break their tests.
 */
export const kafkaPublishingTarget: PublishingTestTarget = {
  name: 'kafka',
  slowOutages: true,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'keel-publishing-'));
    const transport = openKafkaTestTransport();
    const prefix = kafkaTestPrefix('pub');
    let down = false;
    const restart = async () => {
      await ensureCluster({ quiet: true });
      down = false;
    };
    return {
      transport,
      dir,
      prefix,
      async startOutage() {
        down = true;
        try {
          await Promise.all(NODE_IDS.map((id) => stopNode(id, { timeoutMs: BROKER_STOP_TIMEOUT_MS })));
        } catch (error) {
          await restart();
          throw error;
        }
        return { end: restart };
      },
      async close() {
        // Whatever the test did, the shared cluster is up again when it ends.
        if (down) await restart();
        await transport.close();
        await deleteKafkaTopicsWithPrefix(prefix);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Every transport the publisher's tests run on. */
export const publishingTargets: readonly PublishingTestTarget[] = [
  embeddedPublishingTarget,
  kafkaPublishingTarget,
];

/** What each publisher test is given: a freshly opened transport and the catalog, its topics created. */
export interface PublishingFixture {
  opened: PublishingTestTransport;
  names: ReturnType<typeof publishingCatalog>;
}

/**
 * Registers hooks that open `target` before each test of the calling suite, with the publishing catalog's
 * topics created, and close it after; the fields are the current test's.
 */
export function publishingFixture(target: PublishingTestTarget): PublishingFixture {
  const given = {} as PublishingFixture;
  beforeEach(async () => {
    given.opened = await target.open();
    given.names = publishingCatalog(given.opened.prefix);
    await given.opened.transport.ensureTopics(given.names.catalog.topics);
  });
  afterEach(async () => {
    await given.opened.close();
  });
  return given;
}
