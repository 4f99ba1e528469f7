import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  /** Values the global setup hands to test files (`inject('kafkaBrokers')`). */
  export interface ProvidedContext {
    /** Comma-separated bootstrap servers of the Kafka cluster the tests use. */
    kafkaBrokers: string;
  }
}

/**
 * Vitest global setup: the Kafka cluster the tests talk to. With `KEEL_KAFKA_BROKERS` set, that cluster;
 * otherwise the local 3-node cluster of `scripts/kafka.mjs`, started (jars fetched with mvn on first use)
 * unless it already runs. It is left running at the end: the next run reuses it (`npm run kafka:down` stops it).
 */
export async function setup(project: TestProject): Promise<void> {
  let brokers = process.env.KEEL_KAFKA_BROKERS?.trim();
  if (!brokers) {
    const { ensureCluster } = await import('../../scripts/kafka.mjs');
    const started = Date.now();
    try {
      const result = await ensureCluster({ quiet: true });
      brokers = result.bootstrapServers;
      if (result.started.length > 0) {
        process.stderr.write(
          `kafka: started nodes ${result.started.join(', ')} for the tests in ${Date.now() - started} ms (${brokers})\n`,
        );
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `The Kafka tests need a cluster: set KEEL_KAFKA_BROKERS, or install Java 17+ and Maven so the tests start the local one (npm run kafka:up). ${reason}`,
      );
    }
  }
  ensureKcat();
  project.provide('kafkaBrokers', brokers);
}

/**
 * The interop tests run `kcat` (Debian's package): on a fresh CI machine it is installed here with apt-get,
 * once, so `npm test` needs nothing by hand.
 */
function ensureKcat(): void {
  if (spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0) return;
  process.stderr.write('kcat: not found, installing it with apt-get (Debian package kcat)\n');
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const update = apt(['update']);
  const install = update.status === 0 ? apt(['install', '-y', 'kcat']) : update;
  if (install.status !== 0 || spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status !== 0) {
    const reason = install.error?.message ?? install.stderr?.trim().split('\n').slice(-3).join(' ');
    throw new Error(
      `The Kafka interop tests need kcat, and installing it failed (apt-get update && apt-get install -y kcat, as root): ${reason}`,
    );
  }
}
