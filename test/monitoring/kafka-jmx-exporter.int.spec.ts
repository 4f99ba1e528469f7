import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureJmxAgent, javaBin, jmxAgentFlag, kafkaJavaArgs } from '../../scripts/kafka.mjs';
import { promtool } from './support/promtool.ts';

// One throwaway single-node KRaft broker on free ports, with the same agent flag and exporter config that
// scripts/kafka.mjs gives the shared cluster's nodes: the shared cluster is never restarted by this test.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'keel-jmx-'));
let broker: ChildProcess | undefined;

afterAll(async () => {
  if (broker?.exitCode === null) {
    const exited = new Promise((resolve) => broker?.once('exit', resolve));
    broker.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

async function startBroker(metricsPort: number): Promise<void> {
  const [client, controller] = [await freePort(), await freePort()];
  const config = join(dir, 'server.properties');
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${client},CONTROLLER://127.0.0.1:${controller}`,
      'controller.listener.names=CONTROLLER',
      `log.dirs=${join(dir, 'data')}`,
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'share.coordinator.state.topic.replication.factor=1',
      '',
    ].join('\n'),
  );
  const jvm = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
  const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
  const format = spawnSync(
    javaBin(),
    kafkaJavaArgs(
      'kafka.tools.StorageTool',
      ['format', '-t', clusterId, '-c', config],
      jvm,
      join(dir, 'logs'),
    ),
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(format.status, `${format.stdout}${format.stderr}`).toBe(0);
  const args = kafkaJavaArgs('kafka.Kafka', [config], [...jvm, jmxAgentFlag(metricsPort)], join(dir, 'logs'));
  broker = spawn(javaBin(), args, { stdio: 'ignore' });
}

/** The `kafka_*` metric names the Kafka alert rules and the Kafka dashboard query. */
function brokerMetricNames(): string[] {
  const files = [
    new URL('../../infra/monitoring/prometheus/kafka.rules.yml', import.meta.url),
    new URL('../../infra/monitoring/grafana/dashboards/kafka-cluster.json', import.meta.url),
  ];
  const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  return [...new Set(text.match(/\bkafka_[a-z_]+/g) ?? [])].sort();
}

async function scrapeWhen(url: string, ready: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (broker?.exitCode !== null) throw new Error(`the throwaway broker exited with ${broker?.exitCode}`);
    try {
      last = await (await fetch(url)).text();
      if (ready.test(last)) return last;
    } catch {
      // The agent's HTTP server is not up yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no ${ready} at ${url} within ${timeoutMs} ms; last answer:\n${last.slice(0, 2000)}`);
}

describe('the Kafka JMX exporter agent and its config', () => {
  it('serve the broker metrics the Kafka alerts use, clean by promtool check metrics', async () => {
    ensureJmxAgent();
    const port = await freePort();
    await startBroker(port);
    const text = await scrapeWhen(
      `http://127.0.0.1:${port}/metrics`,
      // The broker side registers its ReplicaManager after the controller side has started.
      /^kafka_server_replicamanager_underreplicatedpartitions 0\.0$/m,
      60_000,
    );
    for (const metric of [
      /^kafka_controller_kafkacontroller_activecontrollercount 1\.0$/m,
      /^kafka_controller_kafkacontroller_offlinepartitionscount 0\.0$/m,
      /^kafka_server_replicamanager_isrshrinks_total \d+\.0$/m,
      /^# TYPE kafka_server_replicamanager_isrshrinks_total counter$/m,
    ]) {
      expect(text).toMatch(metric);
    }
    // Every broker metric the Kafka rules and the Kafka dashboard read is served (the request-time percentiles
    // appear once a request of that kind was served, so they are checked by name only where present).
    for (const name of brokerMetricNames()) {
      if (name.startsWith('kafka_network_')) continue;
      expect(text, name).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
    }
    // The include list keeps the scrape small: no topic-partition log metrics, no per-topic series.
    expect(text).not.toMatch(/^kafka_log_/m);
    const run = promtool(['check', 'metrics'], text);
    expect(run.status, run.output).toBe(0);
  }, 90_000);
});
