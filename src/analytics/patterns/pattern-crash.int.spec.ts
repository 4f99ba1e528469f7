import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteInbox } from '../../bus/inbox/sqlite-inbox.ts';
import { createPublisher } from '../../bus/publisher.ts';
import { createRouter } from '../../bus/router.ts';
import { deleteKafkaTopicsWithPrefix, kafkaTestPrefix } from '../../bus/test-support/kafka-test-transport.ts';
import { createCatalog } from '../../events/catalog.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import { type Child, runScript } from '../../test-support/child-process.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createKafkaTransport } from '../../transport/kafka/index.ts';
import { testBrokers } from '../../transport/kafka/test-support/kafka-test-cluster.ts';
import type { Transport } from '../../transport/transport.ts';
import { PatternMatched } from '../analytics-events.ts';
import { LabResultRecorded, LabResultReviewed, labTopic } from '../test-support/lab-events.ts';

const ANALYTICS = new URL('../test-support/analytics-process.ts', import.meta.url).href;
const RESULTS = 600;
const HOUR = 3_600_000;

interface Stream {
  events: {
    definition: typeof LabResultRecorded | typeof LabResultReviewed;
    data: Record<string, unknown>;
    time: number;
    id: string;
  }[];
  /** `rule|eventIds` of every match the stream must give. */
  expected: Set<string>;
}

// Result i is reviewed after 1 h (every third: a sequence match), after 30 h (late: an absence) or never (an
// absence). Times start a day ahead, so only event time (never the wall clock) closes the absences; the
// stream ends with one recorded result per key far in the future, which closes every earlier window.
function knownStream(): Stream {
  const base = Date.now() + 86_400_000;
  const events: Stream['events'] = [];
  const expected = new Set<string>();
  for (let i = 0; i < RESULTS; i++) {
    const resultId = `result-${i}`;
    const recorded = {
      definition: LabResultRecorded,
      data: { resultId, patientId: `p-${i % 40}`, value: i },
      time: base + i * 600_000,
      id: `rec-${i}`,
    };
    events.push(recorded);
    const delay = [1 * HOUR, 30 * HOUR, undefined][i % 3];
    if (delay !== undefined) {
      events.push({
        definition: LabResultReviewed,
        data: { resultId, reviewer: 'dr-a' },
        time: recorded.time + delay,
        id: `rev-${i}`,
      });
    }
    expected.add(i % 3 === 0 ? `reviewed-in-time|rec-${i},rev-${i}` : `unreviewed-24h|rec-${i}`);
  }
  const end = base + RESULTS * 600_000 + 100 * HOUR;
  for (let k = 0; k < 30; k++) {
    events.push({
      definition: LabResultRecorded,
      data: { resultId: `closing-${k}`, patientId: 'none', value: 0 },
      time: end,
      id: `end-${k}`,
    });
  }
  events.sort((a, b) => a.time - b.time);
  return { events, expected };
}

interface Setup {
  transport: Transport;
  /** Arguments naming the transport to the analytics process. */
  args: [string, string];
  prefix: string;
  cleanup(): Promise<void>;
}

async function readMatches(transport: Transport, topic: string): Promise<{ id: string; key: string }[]> {
  const out: { id: string; key: string }[] = [];
  for (let partition = 0; partition < 3; partition++) {
    for (const record of await transport.read(topic, partition, 0n, 100_000)) {
      const event = fromRecord(record);
      const data = event.data as { rule: string; eventIds: string[] };
      out.push({ id: event.id, key: `${data.rule}|${data.eventIds.join(',')}` });
    }
  }
  return out;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const setups: Record<'embedded' | 'kafka', (dir: string) => Promise<Setup>> = {
  async embedded(dir) {
    const path = join(dir, 'bus.db');
    const transport = createEmbeddedTransport({ path, synchronous: 'normal', maintenanceIntervalMs: 0 });
    return { transport, args: ['embedded', path], prefix: 'lab', cleanup: () => transport.close() };
  },
  async kafka() {
    const prefix = kafkaTestPrefix('analytics');
    const transport = createKafkaTransport({
      brokers: testBrokers(),
      clientId: 'keel-analytics-test',
      logger: pino({ level: 'silent' }),
    });
    return {
      transport,
      args: ['kafka', testBrokers().join(',')],
      prefix,
      async cleanup() {
        await transport.close();
        await deleteKafkaTopicsWithPrefix(prefix);
      },
    };
  },
};

// The analytics process is SIGKILLed twice while it works through a stream with known answers: every
// expected match is published, nothing else is, a match published twice carries the same id both times,
// and a consumer deduplicating by id (the inbox) handles each match exactly once.
describe.each(['embedded', 'kafka'] as const)('pattern rules through SIGKILL: %s', (kind) => {
  const children: Child[] = [];
  let setup: Setup | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    for (const child of children.splice(0)) await child.kill();
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('absence and sequence rules: no missed and no duplicate matches', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-analytics-crash-'));
    setup = await setups[kind](dir);
    const { transport, prefix } = setup;
    const topic = labTopic(`${prefix}.lab-events`);
    const matchTopicName = `${prefix}.matches`;
    await transport.ensureTopics([{ name: topic.name, partitions: 3, replication: 1 }]);
    const stream = knownStream();
    const publisher = createPublisher({
      transport,
      catalog: createCatalog({ topics: [topic] }),
      source: 'urn:test:lab',
    });
    // One at a time: each partition then holds its events in event-time order.
    for (const e of stream.events) {
      await publisher.publish(e.definition, e.data as never, {
        id: e.id,
        time: new Date(e.time).toISOString(),
      });
    }
    await publisher.close();

    const statePath = join(dir, 'analytics.db');
    const start = async (): Promise<Child> => {
      const child = runScript(ANALYTICS, [
        ...setup!.args,
        statePath,
        topic.name,
        matchTopicName,
        `${prefix}-analytics`,
      ]);
      children.push(child);
      await child.waitForLine((line) => line === 'started', 30_000);
      return child;
    };
    const published = async (): Promise<number> => {
      try {
        return (await readMatches(transport, matchTopicName)).length;
      } catch {
        return 0;
      }
    };
    const killedAt: number[] = [];
    for (const threshold of [60, 250]) {
      const child = await start();
      await waitUntil(async () => (await published()) >= threshold, 60_000, `${threshold} matches`);
      await child.kill();
      killedAt.push(await published());
    }
    const last = await start();
    await waitUntil(
      async () =>
        new Set((await readMatches(transport, matchTopicName)).map((m) => m.key)).size >=
        stream.expected.size,
      60_000,
      'every match',
    );
    // Anything left to publish would show up now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    last.process.kill('SIGTERM');
    await last.exited;

    const matches = await readMatches(transport, matchTopicName);
    const keys = new Set(matches.map((m) => m.key));
    const missed = [...stream.expected].filter((k) => !keys.has(k));
    const unexpected = [...keys].filter((k) => !stream.expected.has(k));
    expect({ missed, unexpected }).toEqual({ missed: [], unexpected: [] });
    // Republished after a kill, a match keeps its id: one id per match.
    const idsByKey = new Map<string, Set<string>>();
    for (const m of matches) idsByKey.set(m.key, (idsByKey.get(m.key) ?? new Set()).add(m.id));
    expect([...idsByKey.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    // The kills landed mid-stream.
    expect(killedAt[0]).toBeLessThan(stream.expected.size);

    // A consumer with an inbox handles each match once.
    const handled = new Map<string, number>();
    const consumerCatalog = createCatalog({
      topics: [
        defineTopic({ name: matchTopicName, partitions: 3, replication: 1, events: [PatternMatched] }),
      ],
    });
    const router = createRouter({
      transport,
      catalog: consumerCatalog,
      group: `${prefix}-match-consumer`,
      inbox: createSqliteInbox({ path: join(dir, 'inbox.db') }),
      shutdownSignals: [],
    }).on(PatternMatched, (event) => {
      handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
    });
    await router.start();
    await waitUntil(async () => handled.size >= stream.expected.size, 30_000, 'the consumer');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await router.close();
    expect(handled.size).toBe(stream.expected.size);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    console.info(
      `${kind}: ${stream.events.length} events, ${stream.expected.size} matches, ${matches.length} records (${matches.length - keys.size} republished), kills after ${killedAt.join(' and ')} records`,
    );
  }, 180_000);
});
