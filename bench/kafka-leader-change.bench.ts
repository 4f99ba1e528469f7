// Publishing through leader changes on the 3-broker cluster: how long acknowledgements stop when a broker
// stops cleanly (its partitions' leadership moves first) and when one is SIGKILLed (the cluster moves it
// only once the broker's session expires), beside how long the cluster itself took to move leadership.
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { clusterHealth, killNode, startNode, stopNode } from '../scripts/kafka.mjs';
import { createPublisher } from '../src/bus/publisher.ts';
import { createCatalog } from '../src/events/catalog.ts';
import { defineTopic } from '../src/events/define-topic.ts';
import { createKafkaTransport } from '../src/transport/kafka/index.ts';
import { BenchEvent, PAD } from './bench-catalog.ts';
import { benchBrokers } from './kafka.bench.ts';
import type { BenchResult } from './stats.ts';

const silent = pino({ level: 'silent' });
const PARTITIONS = 12;
const CALLERS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the topic's metadata until `node` leads no partition and is in no in-sync set; ms from `since`. */
async function leadershipMoved(admin: Admin, topic: string, node: number, since: number): Promise<number> {
  for (;;) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
    const partitions = metadata?.topics.get(topic)?.partitions ?? [];
    if (partitions.length > 0 && partitions.every((p) => p.leader !== node && !p.isr.includes(node))) {
      return Date.now() - since;
    }
    await sleep(50);
  }
}

/** The longest wait for an acknowledgement from `since` on (the first one after it included). */
function longestGap(acknowledgedAt: readonly number[], from: number, since: number): number {
  let gap = 0;
  for (let i = from, previous = since; i < acknowledgedAt.length; previous = acknowledgedAt[i++]!) {
    gap = Math.max(gap, acknowledgedAt[i]! - previous);
  }
  return gap;
}

/** Stall of keyed `publish` calls (500 in flight) at a clean stop and at a SIGKILL of a non-controller broker. */
export async function kafkaLeaderChangeBenchmarks(): Promise<BenchResult[]> {
  const brokers = await benchBrokers();
  if (!brokers || process.env.KEEL_KAFKA_BROKERS) {
    process.stderr.write(
      'kafka-leader-change: skipped (needs the local cluster: it stops and kills its nodes)\n',
    );
    return [];
  }
  const transport = createKafkaTransport({ brokers, clientId: 'keel-bench-leader', logger: silent });
  const admin = new Admin({ clientId: 'keel-bench-leader-admin', bootstrapBrokers: brokers });
  const name = `bench-leader-${Date.now().toString(36)}`;
  const topic = defineTopic({ name, partitions: PARTITIONS, events: [BenchEvent] });
  const publisher = createPublisher({
    transport,
    catalog: createCatalog({ topics: [topic] }),
    source: 'urn:keel:bench',
    logger: silent,
  });
  const acknowledgedAt: number[] = [];
  let publishing = true;
  let seq = 0;
  let failed = 0;
  const caller = async () => {
    while (publishing) {
      const n = seq++;
      try {
        await publisher.publish(BenchEvent, { key: `k${n % 1000}`, seq: n, sentAt: 0, pad: PAD });
        acknowledgedAt.push(Date.now());
      } catch {
        failed++;
      }
    }
  };
  const measure = async (how: 'stop' | 'kill') => {
    const quorumLeader = (await clusterHealth()).quorum?.leaderId ?? 1;
    const node = [1, 2, 3].find((id) => id !== quorumLeader)!;
    await sleep(3_000);
    const from = acknowledgedAt.length;
    const since = Date.now();
    const moved = leadershipMoved(admin, name, node, since);
    if (how === 'stop') await stopNode(node);
    else await killNode(node);
    const movedMs = await moved;
    await sleep(4_000);
    const stalledMs = longestGap(acknowledgedAt, from, since);
    await startNode(node);
    return { node, stalledMs, movedMs };
  };
  try {
    await transport.ensureTopics([topic]);
    const callers = Array.from({ length: CALLERS }, caller);
    let clean: Awaited<ReturnType<typeof measure>>;
    let killed: Awaited<ReturnType<typeof measure>>;
    try {
      clean = await measure('stop');
      killed = await measure('kill');
    } finally {
      publishing = false;
      await Promise.all(callers);
    }
    const setting = `${CALLERS} keyed publish calls in flight, ${PARTITIONS} partitions, RF 3, min ISR 2, acks=all; ${acknowledgedAt.length} acknowledged, ${failed} failed`;
    return [
      {
        name: 'kafka: publish stall at a clean leader change (broker stopped)',
        value: clean.stalledMs,
        unit: 'ms',
        target: 3_000,
        better: 'lower',
        note: `node ${clean.node} stopped (controlled shutdown); leadership and in-sync sets moved in ${clean.movedMs} ms; ${setting}`,
      },
      {
        name: 'kafka: publish stall at a broker SIGKILL',
        value: killed.stalledMs,
        unit: 'ms',
        note: `node ${killed.node} SIGKILLed; the cluster moved its leadership and in-sync sets after ${killed.movedMs} ms (its session expires after broker.session.timeout.ms = 5 s; acks=all waits for it until then)`,
      },
      {
        name: 'kafka: publish stall at a broker SIGKILL beyond the cluster moving leadership',
        value: Math.max(0, killed.stalledMs - killed.movedMs),
        unit: 'ms',
        target: 3_000,
        better: 'lower',
        note: 'how long publishing still stalled once new leaders and in-sync sets were in the metadata (the client’s own share)',
      },
    ];
  } finally {
    await publisher.close().catch(() => undefined);
    await transport.deleteTopics([name]).catch(() => undefined);
    await admin.close().catch(() => undefined);
    await transport.close();
  }
}
