import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated, PatientUpdated } from '../../examples/catalog.ts';
import { createEvent } from '../../src/events/create-event.ts';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import { createAsyncProjection } from '../../src/store/projections/async-projection.ts';
import { defineProjection } from '../../src/store/projections/projection.ts';

/** Counts patients per last name: an async projection of PatientCreated only. */
const patientCounts = defineProjection({
  name: 'metrics_patient_counts',
  types: [PatientCreated.type],
  createTable: (table) => [`CREATE TABLE ${table.name} (last_name TEXT PRIMARY KEY, n INTEGER NOT NULL)`],
  async apply(events, { transaction, table }) {
    const sql = `INSERT INTO ${table.name} (last_name, n) VALUES (?, 1) ON CONFLICT (last_name) DO UPDATE SET n = n + 1`;
    for (const e of events) await transaction.query(sql, [(e.event.data as { lastName: string }).lastName]);
  },
});

import { consumeOnce, publishPatients, TOPIC } from './support/load.ts';
import { promtool } from './support/promtool.ts';

let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode({ projections: [patientCounts] });
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

  it("reads the event store's size and each projection's lag at scrape time", async () => {
    const { store } = temp.node.store;
    const created = (id: string) =>
      createEvent(
        PatientCreated,
        { patientId: id, firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' },
        { source: 'urn:test:metrics' },
      );
    await store.append('patient-m1', [
      created('m1'),
      createEvent(PatientUpdated, { patientId: 'm1', changes: {} }, { source: 'urn:test:metrics' }),
    ]);
    const projection = createAsyncProjection({ store, projection: patientCounts, pollIntervalMs: 20 });
    await projection.start();
    await projection.caughtUp();
    await projection.stop();
    // Stored after the projection stopped: two events of its type behind, one of another type not counted.
    await store.append('patient-m2', [created('m2')]);
    await store.append('patient-m3', [
      created('m3'),
      createEvent(PatientUpdated, { patientId: 'm3', changes: {} }, { source: 'urn:test:metrics' }),
    ]);

    const text = await (await fetch(`${temp.node.url}/metrics`)).text();
    expect(text).toMatch(/^keel_store_events 5$/m);
    expect(text).toMatch(/^keel_projection_lag_events\{projection="metrics_patient_counts",scope="\*"\} 2$/m);
    expect(text).toMatch(/^keel_projection_rebuilding\{projection="metrics_patient_counts",scope="\*"\} 0$/m);
    const run = promtool(['check', 'metrics'], text);
    expect(run.output.trim()).toBe('');
    expect(run.status).toBe(0);
  });
});
