import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { runScript } from '../../transport/embedded/test-support/child-process.ts';
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
}

/** Milliseconds an embedded append waits for the write lock before failing with SQLITE_BUSY in these tests. */
export const EMBEDDED_BUSY_TIMEOUT_MS = 100;

let counter = 0;

/** The embedded transport on a fresh SQLite file, whose appends fail after 100 ms when another process holds the lock. */
export const embeddedPublishingTarget: PublishingTestTarget = {
  name: 'embedded',
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
        for (const child of children) {
          if (child.process.exitCode === null && child.process.signalCode === null)
            child.process.kill('SIGKILL');
          await child.exited;
        }
        await transport.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Every transport the publisher's tests run on (the Kafka adapter adds itself here, with broker stops as outages). */
export const publishingTargets: readonly PublishingTestTarget[] = [embeddedPublishingTarget];
