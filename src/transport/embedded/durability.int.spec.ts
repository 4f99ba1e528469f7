import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript } from '../../test-support/child-process.ts';
import type { StoredRecord } from '../transport.ts';
import { createEmbeddedTransport } from './embedded-transport.ts';
import { durabilityValue } from './test-support/durability-value.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('embedded transport durability', () => {
  it('keeps every acknowledged append when the writing process is SIGKILLed mid-write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-durability-'));
    dirs.push(dir);
    const path = join(dir, 'log.db');
    const partitions = 2;
    const child = runScript(new URL('./test-support/append-loop.ts', import.meta.url).href, [
      path,
      'durable',
      `${partitions}`,
      '16',
    ]);
    await child.waitForLine((line) => line === 'ready', 10_000);
    // An arbitrary moment 1-1.6 s in, with 16 appends in flight.
    await new Promise((resolve) => setTimeout(resolve, 1_000 + Math.random() * 600));
    child.process.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');

    const acked = child.lines
      .filter((line) => line.text.startsWith('ack '))
      .map((line) => {
        const [, partition, offset, id] = line.text.split(' ');
        return { partition: Number(partition), offset: BigInt(offset!), id: Number(id) };
      });
    expect(acked.length).toBeGreaterThan(100);

    const transport = createEmbeddedTransport({ path, maintenanceIntervalMs: 0 });
    try {
      const stored = new Map<string, StoredRecord>();
      const ids = new Set<string>();
      const damaged: string[] = [];
      for (const bounds of await transport.offsets('durable')) {
        expect(bounds.earliest).toBe(0n);
        const records: StoredRecord[] = [];
        for (let from = 0n; ; ) {
          const page = await transport.read('durable', bounds.partition, from, 1_000);
          if (page.length === 0) break;
          records.push(...page);
          from = page.at(-1)!.offset + 1n;
        }
        // Contiguous: no offset lost or reused, and the log end matches what is stored.
        expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => BigInt(i)));
        expect(BigInt(records.length)).toBe(bounds.latest);
        for (const record of records) {
          // Every stored record is whole, acknowledged or not (some committed just before the kill).
          const id = record.headers.id ?? '';
          const intact =
            record.value !== null &&
            Buffer.from(record.value).equals(durabilityValue(Number(id))) &&
            record.key === `key-${Number(id) % 97}`;
          if (!intact || ids.has(id)) damaged.push(`${record.partition}@${record.offset}`);
          ids.add(id);
          stored.set(`${record.partition}@${record.offset}`, record);
        }
      }
      expect(damaged).toEqual([]);
      const missing = acked.filter((a) => stored.get(`${a.partition}@${a.offset}`)?.headers.id !== `${a.id}`);
      expect(missing).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acked.length);
    } finally {
      await transport.close();
    }
  }, 30_000);
});
