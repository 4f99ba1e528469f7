// Analytics, same run: windowed aggregation vs a raw consumer over the same records of the embedded log
// (poll + decode, nothing else), the aggregation alone on decoded events (one core), and pattern matching
// with 100 rules (state in SQLite, one transaction per batch of 500 as the engine does).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { applyEvent } from '../src/analytics/patterns/apply-event.ts';
import { compileRules, type RuleSpec } from '../src/analytics/patterns/compile-rules.ts';
import { createPatternState } from '../src/analytics/patterns/sqlite-state.ts';
import { createWindowEngine } from '../src/analytics/windows/window-engine.ts';
import { createPublisher } from '../src/bus/publisher.ts';
import { createCatalog } from '../src/events/catalog.ts';
import type { CloudEvent } from '../src/events/cloud-event.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { defineTopic } from '../src/events/define-topic.ts';
import { fromRecord } from '../src/events/kafka-binding.ts';
import { openSqlite } from '../src/sql/sqlite/open-sqlite.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import type { Transport } from '../src/transport/transport.ts';
import type { BenchResult } from './stats.ts';

const TOTAL = 200_000;
const BATCH = 500;
const PATTERN_EVENTS = 20_000;

const Vitals = defineEvent({
  type: 'bench.analytics.vitals',
  version: 1,
  schema: z.object({ patientId: z.string(), ward: z.string(), heartRate: z.number() }),
  partitionKey: (data) => data.patientId,
});
const topic = defineTopic({ name: 'bench.analytics', partitions: 4, replication: 1, events: [Vitals] });
const windows = [
  { id: 'hr-by-ward', kind: 'tumbling', size: '1m', by: 'data.ward', value: 'data.heartRate' },
  { id: 'rate-by-type', kind: 'sliding', size: '5m', slide: '1m' },
];

async function fill(transport: Transport): Promise<void> {
  await transport.ensureTopics([{ name: topic.name, partitions: 4 }]);
  const publisher = createPublisher({
    transport,
    catalog: createCatalog({ topics: [topic] }),
    source: 'urn:bench',
  });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let b = 0; b < TOTAL / BATCH; b++) {
    const data = Array.from({ length: BATCH }, (_, i) => ({
      patientId: `p-${(b * BATCH + i) % 5_000}`,
      ward: `ward-${i % 12}`,
      heartRate: 50 + ((b * 7 + i) % 90),
    }));
    await publisher.publishMany(Vitals, data, { time: new Date(t0 + b * 1_000).toISOString() });
  }
  await publisher.close();
}

/** Reads every record in a new group; `each` is called on each decoded event. Events per second. */
async function consumeAll(
  transport: Transport,
  group: string,
  each: (event: CloudEvent, topic: string) => void,
): Promise<number> {
  const consumer = transport.consumer({ group, topics: [topic.name], maxRecords: 2_000 });
  const started = performance.now();
  let seen = 0;
  while (seen < TOTAL) {
    const records = await consumer.poll(100);
    for (const record of records) each(fromRecord(record), record.topic);
    seen += records.length;
  }
  const rate = TOTAL / ((performance.now() - started) / 1_000);
  await consumer.close();
  return rate;
}

function patternRules(): RuleSpec[] {
  return Array.from({ length: 100 }, (_, i): RuleSpec => {
    const on = { type: Vitals.type, when: `data.ward == 'ward-${i % 12}'` };
    if (i % 3 === 0)
      return {
        id: `high-${i}`,
        kind: 'threshold',
        key: 'data.patientId',
        on,
        value: 'data.heartRate',
        above: 130,
      };
    if (i % 3 === 1)
      return { id: `burst-${i}`, kind: 'count', key: 'data.patientId', on, atLeast: 3, within: '2m' };
    return {
      id: `rise-${i}`,
      kind: 'sequence',
      key: 'data.patientId',
      first: { type: Vitals.type, when: 'data.heartRate < 60' },
      next: { type: Vitals.type, when: `data.heartRate > 120 && data.ward == 'ward-${i % 12}'` },
      within: '10m',
    };
  });
}

/** Analytics benchmarks on the embedded log. */
export async function analyticsBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-analytics-'));
  try {
    const transport = createEmbeddedTransport({
      path: join(dir, 'bus.db'),
      synchronous: 'normal',
      maintenanceIntervalMs: 0,
    });
    await fill(transport);
    const decoded: CloudEvent[] = [];
    const raw = await consumeAll(transport, 'raw', (event) => void decoded.push(event));
    const engine = createWindowEngine({ transport, topics: [topic.name], windows, publish: false });
    let closed = 0;
    const windowed = await consumeAll(transport, 'windowed', (event, t) => {
      closed += engine.apply(event, t).length;
    });
    // The aggregation alone, on events already decoded.
    const fresh = createWindowEngine({ transport, topics: [topic.name], windows, publish: false });
    const started = performance.now();
    for (const event of decoded) fresh.apply(event, topic.name);
    const aggregation = TOTAL / ((performance.now() - started) / 1_000);
    await transport.close();

    const rules = compileRules(patternRules());
    const state = createPatternState(openSqlite({ path: join(dir, 'patterns.db'), synchronous: 'normal' }));
    let matches = 0;
    const applyBatch = state.db.transaction((events: readonly CloudEvent[]) => {
      for (const event of events) matches += applyEvent(rules, state, event, 'bench/0').length;
    });
    const patternStart = performance.now();
    for (let i = 0; i < PATTERN_EVENTS; i += BATCH) applyBatch(decoded.slice(i, i + BATCH));
    const patterns = PATTERN_EVENTS / ((performance.now() - patternStart) / 1_000);
    state.db.close();

    const round = (n: number) => Math.round(n);
    return [
      {
        name: 'analytics: raw consumer (poll + decode), embedded',
        value: round(raw),
        unit: 'events/s',
        note: `${TOTAL.toLocaleString('en-US')} events, 4 partitions`,
      },
      {
        name: 'analytics: windowed consumer (poll + decode + 2 windows), embedded',
        value: round(windowed),
        unit: 'events/s',
        note: `${(windowed / raw).toFixed(2)}× the raw consumer; ${closed} window results`,
      },
      {
        name: 'analytics: window aggregation alone (2 windows, decoded events, one core)',
        value: round(aggregation),
        unit: 'events/s',
        target: 200_000,
        better: 'higher',
      },
      {
        name: 'analytics: pattern matching, 100 rules (threshold, count, sequence), SQLite state',
        value: round(patterns),
        unit: 'events/s',
        note: `${PATTERN_EVENTS.toLocaleString('en-US')} events, ${matches} matches`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
