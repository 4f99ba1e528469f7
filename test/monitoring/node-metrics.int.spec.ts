import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import { consumeOnce, publishPatients, TOPIC } from './support/load.ts';
import { promtool } from './support/promtool.ts';

let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode();
});
afterAll(async () => {
  await temp?.close();
});

describe("a node's /metrics", () => {
  it('passes promtool check metrics after publishing and consuming, with the gauges read at scrape time', async () => {
    const url = temp.node.url as string;
    await publishPatients(url, 30);
    const consumer = temp.node.transport.consumer({ group: 'monitoring-readers', topics: [TOPIC] });
    let read = 0;
    const deadline = Date.now() + 10_000;
    while (read < 10 && Date.now() < deadline) read += await consumeOnce(consumer);
    await consumer.close();

    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(
      /^keel_event_published_total\{type="healthcare.patient.created",topic="healthcare.patients.events"\} 30$/m,
    );
    const lag = [
      ...text.matchAll(/^keel_consumer_group_lag_messages\{group="monitoring-readers",[^}]*\} (\d+)$/gm),
    ];
    expect(lag.length).toBeGreaterThan(0);
    expect(lag.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(30 - read);

    const run = promtool(['check', 'metrics'], text);
    expect(run.output.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it("counts the records on each group's dead-letter topic, read at scrape time", async () => {
    const { transport } = temp.node;
    await transport.ensureTopics([{ name: 'billing.dlq', partitions: 2 }]);
    const record = { key: null, value: new TextEncoder().encode('{}'), headers: {} };
    await transport.append([
      { topic: 'billing.dlq', partition: 0, records: [record, record] },
      { topic: 'billing.dlq', partition: 1, records: [record] },
    ]);
    const text = await (await fetch(`${temp.node.url}/metrics`)).text();
    expect(text).toMatch(/^keel_dlq_records\{group="billing"\} 3$/m);
    // Every other topic, dead-letter or not, is left out: only `<group>.dlq` topics are dead-letter queues.
    expect(text.match(/^keel_dlq_records\{/gm)).toHaveLength(1);
    const run = promtool(['check', 'metrics'], text);
    expect(run.output.trim()).toBe('');
    expect(run.status).toBe(0);
  });
});
