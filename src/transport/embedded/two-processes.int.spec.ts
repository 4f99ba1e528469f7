import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Child, type ChildLine, runScript } from '../../test-support/child-process.ts';
import type { EmbeddedTransport } from './embedded-transport.ts';
import { createEmbeddedTransport } from './embedded-transport.ts';

interface Seen {
  partition: number;
  offset: bigint;
  value: string;
  at: number;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-two-processes-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'log.db');
}

function start(script: string, args: readonly string[]): Child {
  const child = runScript(new URL(`./test-support/${script}`, import.meta.url).href, args);
  cleanups.push(() => child.kill());
  return child;
}

function open(path: string): EmbeddedTransport {
  const transport = createEmbeddedTransport({ path, maintenanceIntervalMs: 0 });
  cleanups.push(() => transport.close());
  return transport;
}

function records(lines: readonly ChildLine[]): Seen[] {
  return lines
    .filter((line) => line.text.startsWith('record '))
    .map((line) => {
      const [, partition, offset, value] = line.text.split(' ');
      return { partition: Number(partition), offset: BigInt(offset!), value: value ?? '', at: line.at };
    });
}

// Partitions a consumer holds after its `assigned`/`revoked` lines up to `until` (ms, parent clock).
function holdings(lines: readonly ChildLine[], until = Number.POSITIVE_INFINITY): Set<number> {
  const held = new Set<number>();
  for (const line of lines) {
    if (line.at > until) break;
    const [verb, list] = line.text.split(' ');
    const partitions = (list ?? '').split(',').filter(Boolean).map(Number);
    if (verb === 'assigned') for (const p of partitions) held.add(p);
    if (verb === 'revoked') for (const p of partitions) held.delete(p);
  }
  return held;
}

// Last offset each partition was committed at, as printed once the commit was durable.
function lastCommits(lines: readonly ChildLine[]): Map<number, bigint> {
  const commits = new Map<number, bigint>();
  for (const line of lines) {
    const [verb, partition, offset] = line.text.split(' ');
    if (verb === 'commit') commits.set(Number(partition), BigInt(offset!));
  }
  return commits;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function stop(child: Child): Promise<unknown> {
  child.process.stdin?.write('stop\n');
  return child.exited;
}

describe('embedded transport across processes', () => {
  it('a consumer process sees every event another process publishes, exactly once and in order', async () => {
    const path = await tempFile();
    const setup = open(path);
    const partitions = 3;
    const count = 1_500;
    await setup.ensureTopics([{ name: 'events', partitions }]);
    const consumer = start('consume-loop.ts', [path, 'events', 'readers', '10000']);
    await consumer.waitForLine((line) => line === 'assigned 0,1,2', 10_000);
    const publisher = start('publish-loop.ts', [path, 'events', `${partitions}`, `${count}`]);
    await publisher.waitForLine((line) => line === 'done', 20_000);
    await waitFor('every event was consumed', () => records(consumer.lines).length >= count, 20_000);
    expect(await stop(consumer)).toBe(0);

    const seen = records(consumer.lines);
    expect(seen).toHaveLength(count);
    expect(new Set(seen.map((r) => r.value)).size).toBe(count);
    for (let partition = 0; partition < partitions; partition++) {
      const mine = seen.filter((r) => r.partition === partition);
      expect(mine.map((r) => r.offset)).toEqual(mine.map((_, i) => BigInt(i)));
      const ids = mine.map((r) => Number(r.value.slice('event-'.length)));
      expect(ids.every((id) => id % partitions === partition)).toBe(true);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    expect((await setup.groupLag('readers', ['events'])).map((l) => l.lag)).toEqual([0n, 0n, 0n]);
  }, 40_000);

  it('when a consumer process is killed, the survivor takes its partitions after the session timeout and resumes from its commits', async () => {
    const path = await tempFile();
    const publisher = open(path);
    const partitions = 4;
    const sessionTimeoutMs = 1_500;
    await publisher.ensureTopics([{ name: 'events', partitions }]);
    const victim = start('consume-loop.ts', [path, 'events', 'pair', `${sessionTimeoutMs}`]);
    const survivor = start('consume-loop.ts', [path, 'events', 'pair', `${sessionTimeoutMs}`]);
    await waitFor(
      'the two consumers share the partitions',
      () => holdings(victim.lines).size === 2 && holdings(survivor.lines).size === 2,
      10_000,
    );

    const count = 3_000;
    let killedAt = 0;
    const seenBoth = (): number => records(victim.lines).length + records(survivor.lines).length;
    const encoder = new TextEncoder();
    // Paced publishing (~2 s) so the kill lands mid-stream.
    for (let id = 0; id < count; ) {
      const writes = Array.from({ length: partitions }, (_, partition) => ({
        topic: 'events',
        partition,
        records: [] as Array<{ key: string; value: Uint8Array; headers: Record<string, string> }>,
      }));
      for (let i = 0; i < 40 && id < count; i++, id++) {
        writes[id % partitions]!.records.push({
          key: `k${id}`,
          value: encoder.encode(`event-${id}`),
          headers: {},
        });
      }
      await publisher.append(writes);
      if (killedAt === 0 && seenBoth() >= count / 3) {
        victim.process.kill('SIGKILL');
        killedAt = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (killedAt === 0) {
      victim.process.kill('SIGKILL');
      killedAt = Date.now();
    }
    await victim.exited;

    const everything = (): Set<string> =>
      new Set([...records(victim.lines), ...records(survivor.lines)].map((r) => r.value));
    await waitFor('every event was seen', () => everything().size === count, 20_000);
    const stoppedAt = Date.now();
    expect(await stop(survivor)).toBe(0);

    const victimRecords = records(victim.lines);
    const survivorRecords = records(survivor.lines);
    const victimHeld = holdings(victim.lines);
    const victimCommits = lastCommits(victim.lines);
    expect(victimHeld.size).toBe(2);

    // The survivor took the victim's partitions, and only once the session had run out.
    const takeover = survivor.lines.find(
      (line) => line.at >= killedAt && line.text.startsWith('assigned ') && line.text !== 'assigned ',
    );
    expect(takeover).toBeDefined();
    expect(takeover!.at - killedAt).toBeGreaterThanOrEqual(sessionTimeoutMs / 2);
    expect(holdings(survivor.lines, stoppedAt)).toEqual(new Set([0, 1, 2, 3]));

    // Nothing lost, and no process saw a record twice itself.
    for (const seen of [victimRecords, survivorRecords]) {
      expect(new Set(seen.map((r) => `${r.partition}@${r.offset}`)).size).toBe(seen.length);
    }
    // The only records seen by both are the victim's uncommitted tail: at or after its last
    // durable commit, on a partition it held when it died.
    const victimSeen = new Set(victimRecords.map((r) => `${r.partition}@${r.offset}`));
    const twice = survivorRecords.filter((r) => victimSeen.has(`${r.partition}@${r.offset}`));
    for (const r of twice) {
      expect(victimHeld.has(r.partition)).toBe(true);
      expect(r.offset).toBeGreaterThanOrEqual(victimCommits.get(r.partition) ?? 0n);
    }
    // The survivor resumed each taken partition from the victim's committed offset: not before
    // its last printed commit, and not after the first record the victim had not processed.
    for (const partition of victimHeld) {
      const first = survivorRecords.find((r) => r.partition === partition && r.at >= takeover!.at);
      const lastByVictim = victimRecords.filter((r) => r.partition === partition).at(-1)?.offset ?? -1n;
      expect(first).toBeDefined();
      expect(first!.offset).toBeGreaterThanOrEqual(victimCommits.get(partition) ?? 0n);
      expect(first!.offset).toBeLessThanOrEqual(lastByVictim + 1n);
    }
    // Per partition, the survivor's own records are in offset order.
    for (let partition = 0; partition < partitions; partition++) {
      const offsets = survivorRecords.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  }, 60_000);
});
