import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createPublisher } from '../../src/bus/publisher.ts';
import { type Child, runScript } from '../../src/test-support/child-process.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import { PAD, PaddedEvent, paddedCatalog } from './support/padded-catalog.ts';

const silent = pino({ level: 'silent' });
const EVENTS = 6_000;
const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 3_000;

const until = async (condition: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** What one member printed: each handled event with its partition, offset and whether the kill had happened. */
interface Handled {
  id: string;
  partition: number;
  offset: bigint;
  at: number;
}

const handledBy = (child: Child): Handled[] =>
  child.lines
    .filter((line) => line.text.startsWith('handled '))
    .map((line) => {
      const [, id, partition, offset] = line.text.split(' ');
      return { id: id!, partition: Number(partition), offset: BigInt(offset!), at: line.at };
    });
const lastAssignment = (child: Child): number =>
  Number(
    child.lines
      .filter((line) => line.text.startsWith('assignment '))
      .at(-1)
      ?.text.split(' ')[1] ?? -1,
  );

describe('consumer failure (SIGKILL one of two group members mid-stream)', () => {
  const harness = kafkaTestHarness('consumer-failure');
  const children: Child[] = [];
  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill()));
    await harness.cleanup();
  });

  it('the survivor takes the dead member’s partitions after the session timeout and resumes from its commits', {
    timeout: 90_000,
  }, async () => {
    const transport = harness.open({ logger: silent });
    const { topic, catalog } = paddedCatalog(harness.topic('events'), PARTITIONS);
    await transport.ensureTopics([topic]);
    const group = harness.group('members');
    const member = () => {
      const child = runScript(new URL('./support/group-member.ts', import.meta.url).href, [
        testBrokers().join(','),
        topic.name,
        group,
        String(SESSION_TIMEOUT_MS),
      ]);
      children.push(child);
      return child;
    };
    const victim = member();
    const survivor = member();
    await until(
      () => lastAssignment(victim) === PARTITIONS / 2 && lastAssignment(survivor) === PARTITIONS / 2,
      30_000,
      'both members hold half the partitions',
    );

    const publisher = createPublisher({
      transport,
      catalog,
      source: 'urn:keel:consumer-failure',
      logger: silent,
    });
    const published = await publisher.publishMany(
      PaddedEvent,
      Array.from({ length: EVENTS }, (_, seq) => ({ key: `k${seq % 300}`, seq, pad: PAD })),
    );

    await until(() => handledBy(victim).length >= 1_000, 30_000, 'the victim handled 1,000 events');
    victim.process.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    const victimHandled = handledBy(victim);
    const victimPartitions = new Set(victimHandled.map((h) => h.partition));

    const ids = new Set(published.map((r) => r.id));
    const seen = () => new Set([...victimHandled, ...handledBy(survivor)].map((h) => h.id));
    await until(() => seen().size === ids.size, 60_000, 'every event handled');
    expect([...ids].every((id) => seen().has(id))).toBe(true);

    const survivorHandled = handledBy(survivor);
    const takenOver = survivorHandled.filter((h) => h.at > killedAt && victimPartitions.has(h.partition));
    expect(lastAssignment(survivor)).toBe(PARTITIONS);
    expect(new Set(takenOver.map((h) => h.partition))).toEqual(victimPartitions);
    // Not before the coordinator expired the dead member (its session), give or take a heartbeat.
    expect(Math.min(...takenOver.map((h) => h.at)) - killedAt).toBeGreaterThan(SESSION_TIMEOUT_MS - 1_000);
    // Partitions the victim had handled from well before the kill: its commits (every 100 ms) moved them on.
    let committedBefore = 0;
    for (const partition of victimPartitions) {
      const victimRecords = victimHandled.filter((h) => h.partition === partition);
      const victimOffsets = victimRecords.map((h) => h.offset);
      const resumedAt = takenOver.filter((h) => h.partition === partition).map((h) => h.offset)[0]!;
      // From the committed offset: past the start the victim began at, and no gap after its last event.
      if (victimRecords[0]!.at < killedAt - 1_000) {
        committedBefore++;
        expect(resumedAt).toBeGreaterThan(victimOffsets[0]!);
      }
      expect(resumedAt).toBeLessThanOrEqual(victimOffsets.at(-1)! + 1n);
    }
    expect(committedBefore).toBeGreaterThan(0);
    // Duplicates only for the dead member's uncommitted tail: events it handled and the survivor redid.
    const victimIds = new Set(victimHandled.map((h) => h.id));
    const survivorIds = survivorHandled.map((h) => h.id);
    const duplicates = survivorIds.filter((id) => victimIds.has(id));
    expect(new Set(survivorIds).size).toBe(survivorIds.length);
    expect(duplicates.length).toBeLessThan(victimHandled.length / 2);
    process.stderr.write(
      `consumer failure: victim handled ${victimHandled.length}, survivor ${survivorHandled.length}, redone ${duplicates.length}, takeover after ${Math.min(...takenOver.map((h) => h.at)) - killedAt} ms\n`,
    );
  });
});
