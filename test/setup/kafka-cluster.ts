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
  ensureDebianTools();
  project.provide('kafkaBrokers', brokers);
}

/**
 * Tools the tests run, from Debian's packages: `kcat` (the interop tests), `python3-confluent-kafka` (the Python
 * interop service, for the system `/usr/bin/python3`) and `promtool` / `prometheus` (the monitoring tests, package
 * `prometheus`). On a fresh CI machine they are installed here with apt-get, once, so
 * `npm test` needs nothing by hand. The package's service is not started: this setup never runs an init system,
 * and the monitoring tests start their own Prometheus on a free port.
 */
function ensureDebianTools(): void {
  const tools = [
    { command: 'kcat', probe: ['-V'], pkg: 'kcat' },
    { command: '/usr/bin/python3', probe: ['-c', 'import confluent_kafka'], pkg: 'python3-confluent-kafka' },
    { command: 'promtool', probe: ['--version'], pkg: 'prometheus' },
  ];
  const missing = tools.filter((t) => spawnSync(t.command, t.probe, { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  const packages = missing.map((t) => t.pkg);
  process.stderr.write(`${packages.join(', ')}: not found, installing with apt-get (Debian packages)\n`);
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const update = apt(['update']);
  const install = update.status === 0 ? apt(['install', '-y', ...packages]) : update;
  const stillMissing = missing.filter((t) => spawnSync(t.command, t.probe, { stdio: 'ignore' }).status !== 0);
  if (install.status !== 0 || stillMissing.length > 0) {
    const reason = install.error?.message ?? install.stderr?.trim().split('\n').slice(-3).join(' ');
    throw new Error(
      `The tests need ${packages.join(' and ')}, and installing failed (apt-get update && apt-get install -y ${packages.join(' ')}, as root): ${reason}`,
    );
  }
}
