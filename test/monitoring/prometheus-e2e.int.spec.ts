import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import type { Consumer } from '../../src/transport/transport.ts';
import { consumeOnce, publishPatients, TOPIC } from './support/load.ts';
import { type PrometheusServer, ruleFileWithFor, startPrometheus } from './support/prometheus-server.ts';

// A real Prometheus scrapes a node under a steady load every second and evaluates the shipped rules every
// second; the lag alert's one-minute hold is cut to 0 s in its copy of the rules, nothing else changes.

const GROUP = 'e2e-readers';
const PER_TICK = 2;
const TICK_MS = 100;

let temp: TempNode;
let prometheus: PrometheusServer | undefined;
let loading = true;
let published = 0;
let load: Promise<void> = Promise.resolve();
let consumer: Consumer | undefined;
let consuming: Promise<void> = Promise.resolve();

/** Every panel query of infra/monitoring/grafana/dashboards/*.json. */
function dashboardQueries() {
  const dir = new URL('../../infra/monitoring/grafana/dashboards/', import.meta.url);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      const dashboard = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      return {
        file,
        // A dashboard variable (`$group`, `$topic`) as Grafana sends it with "All" chosen: any value.
        queries: dashboard.panels.flatMap((p) =>
          p.targets.map((t) => ({ title: p.title, expr: t.expr.replace(/\$[a-z]+/g, '.*') })),
        ),
      };
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes PER_TICK events every TICK_MS (about 20 events/s) until told to stop. */
async function steadyLoad(url: string): Promise<void> {
  while (loading) {
    const started = Date.now();
    await publishPatients(url, PER_TICK);
    published += PER_TICK;
    await sleep(Math.max(0, TICK_MS - (Date.now() - started)));
  }
}

function startConsumer(): void {
  const current = temp.node.transport.consumer({ group: GROUP, topics: [TOPIC] });
  consumer = current;
  consuming = (async () => {
    while (consumer === current) await consumeOnce(current, 100);
    await current.close();
  })();
}

async function stopConsumer(): Promise<void> {
  consumer = undefined;
  await consuming;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(500);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

const lagAlert = async () =>
  (await (prometheus as PrometheusServer).alerts()).find(
    (a) => a.labels.alertname === 'KeelConsumerLagHigh' && a.labels.group === GROUP,
  );

beforeAll(async () => {
  temp = await startTempNode();
  const target = new URL(temp.node.url as string).host;
  prometheus = await startPrometheus({
    targets: [target],
    rules: ruleFileWithFor('keel.rules.yml', 'KeelConsumerLagHigh', '0s'),
  });
  startConsumer();
  load = steadyLoad(temp.node.url as string);
}, 40_000);

afterAll(async () => {
  loading = false;
  await load.catch(() => undefined);
  await stopConsumer().catch(() => undefined);
  await prometheus?.stop();
  await temp?.close();
}, 40_000);

describe('a real Prometheus scraping a node under load', () => {
  it('sees the publish rate the load makes', async () => {
    // Ten seconds of samples at 1 s, then a 5 s rate; the load's own rate over the same run is the reference.
    const startedAt = Date.now();
    const before = published;
    await sleep(10_000);
    const clientRate = ((published - before) * 1000) / (Date.now() - startedAt);
    const [sample] = await prometheus!.query(
      `sum(rate(keel_event_published_total{job="keel",topic="${TOPIC}"}[5s]))`,
    );
    const seen = Number(sample?.value[1]);
    expect(clientRate).toBeGreaterThan(5);
    expect(seen).toBeGreaterThan(clientRate * 0.7);
    expect(seen).toBeLessThan(clientRate * 1.3);
    const [total] = await prometheus!.query(`sum(keel_event_published_total{job="keel"})`);
    expect(Number(total?.value[1])).toBeLessThanOrEqual(published);
    expect(Number(total?.value[1])).toBeGreaterThan(published - clientRate * 3);
  }, 30_000);

  it("answers every query of the Grafana dashboards, with data for the node's own panels", async () => {
    const dashboards = dashboardQueries();
    expect(dashboards.map((d) => d.file).sort()).toEqual([
      'kafka-cluster.json',
      'keel-consumer-groups.json',
      'keel-dead-letters.json',
      'keel-event-store.json',
      'keel-overview.json',
      'keel-topics.json',
      'keel-workflows.json',
    ]);
    for (const { dashboard, title, expr } of dashboards.flatMap((d) =>
      d.queries.map((q) => ({ dashboard: d.file, ...q })),
    )) {
      await expect(prometheus!.query(expr), `${dashboard}: ${title}`).resolves.toBeDefined();
    }
    const withData = {
      'keel-overview.json': ['Events published /s by topic', 'Consumer lag, records', 'Nodes up'],
      'keel-topics.json': [
        'Events published /s by topic',
        'Records behind, summed over the groups reading each topic',
      ],
      'keel-consumer-groups.json': ['Lag, records per partition'],
      'keel-event-store.json': ['Events stored'],
    };
    for (const [file, titles] of Object.entries(withData)) {
      const dashboard = dashboards.find((d) => d.file === file);
      for (const title of titles) {
        const query = dashboard?.queries.find((q) => q.title === title);
        expect(query, `${file}: ${title}`).toBeDefined();
        expect(await prometheus!.query(query!.expr), `${file}: ${title}`).not.toHaveLength(0);
      }
    }
  });

  it('keeps the lag alert silent while the consumer keeps up', async () => {
    const [lag] = await prometheus!.query(`keel:consumer_group_lag_seconds:estimate{group="${GROUP}"}`);
    expect(Number(lag?.value[1])).toBeLessThan(1);
    expect(await lagAlert()).toBeUndefined();
  });

  it('fires the lag alert when the consumer stops, and resolves it when the consumer catches up', async () => {
    await stopConsumer();
    const firing = await until('KeelConsumerLagHigh fires', async () => {
      const alert = await lagAlert();
      return alert?.state === 'firing' ? alert : undefined;
    });
    expect(firing.labels).toMatchObject({ group: GROUP, topic: TOPIC, severity: 'warning' });
    const [behind] = await prometheus!.query(`keel:consumer_group_lag_seconds:estimate{group="${GROUP}"}`);
    expect(Number(behind?.value[1])).toBeGreaterThan(1);

    startConsumer();
    await until('KeelConsumerLagHigh resolves', async () =>
      (await lagAlert()) === undefined ? true : undefined,
    );
    const [caughtUp] = await prometheus!.query(`keel:consumer_group_lag_seconds:estimate{group="${GROUP}"}`);
    expect(Number(caughtUp?.value[1])).toBeLessThan(1);
  }, 70_000);
});
