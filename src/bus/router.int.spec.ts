import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../observability/metrics.ts';
import { createEmbeddedTransport } from '../transport/embedded/index.ts';
import type { Transport } from '../transport/transport.ts';
import { createPublisher } from './publisher.ts';
import type { Publisher } from './publisher-port.ts';
import { createRouter } from './router.ts';
import { CounterEvents, CounterIncremented, counterCatalog } from './test-support/counter-catalog.ts';

const quiet = { shutdownSignals: [] as NodeJS.Signals[], commitIntervalMs: 10, retry: { initialDelayMs: 5 } };

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('router', () => {
  let dir: string;
  let path: string;
  let transport: Transport;
  let publisher: Publisher;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-router-'));
    path = join(dir, 'keel.db');
    transport = createEmbeddedTransport({ path });
    await transport.ensureTopics([CounterEvents]);
    publisher = createPublisher({ transport, catalog: counterCatalog, source: 'urn:keel:test' });
  });
  afterEach(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const publishCounters = (keys: number, perKey: number, from = 0) =>
    Promise.all(
      Array.from({ length: keys * perKey }, (_, i) =>
        publisher.publish(CounterIncremented, { key: `k${i % keys}`, seq: from + Math.floor(i / keys) }),
      ),
    );

  const lagOf = async (group: string) =>
    (await transport.groupLag(group, [CounterEvents.name])).reduce((sum, p) => sum + Number(p.lag), 0);

  it('handles every event once, in order per key, concurrently across keys', async () => {
    await publishCounters(12, 25);
    const seen = new Map<string, number[]>();
    let active = 0;
    let maxActive = 0;
    const router = createRouter({ transport, catalog: counterCatalog, group: 'g', concurrency: 8, ...quiet });
    router.on(CounterIncremented, async (event) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      const { key, seq } = event.data!;
      seen.set(key, [...(seen.get(key) ?? []), seq]);
      active--;
    });
    await router.start();
    await until(() => [...seen.values()].reduce((sum, list) => sum + list.length, 0) === 300);
    await router.close();
    for (const list of seen.values()) expect(list).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(maxActive).toBeGreaterThan(1);
    expect(maxActive).toBeLessThanOrEqual(8);
    expect(await lagOf('g')).toBe(0);
  });

  it('retries a failing handler in place and commits past the event only once it succeeded', async () => {
    await publishCounters(1, 5);
    const handled: number[] = [];
    let failures = 0;
    const metrics = createMetrics();
    const router = createRouter({ transport, catalog: counterCatalog, group: 'g', metrics, ...quiet });
    router.on(CounterIncremented, (event) => {
      if (event.data!.seq === 2 && failures < 2) {
        failures++;
        throw new Error('downstream unavailable');
      }
      handled.push(event.data!.seq);
    });
    await router.start();
    await until(async () => handled.length === 5 && (await lagOf('g')) === 0);
    await router.close();
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    expect(failures).toBe(2);
    // The metric counts events by final outcome: the two failed attempts were retried away.
    const consumed = await metrics.registry.getSingleMetricAsString('keel_event_consumed_total');
    expect(consumed).toMatch(/outcome="handled"} 5/);
    expect(consumed).not.toMatch(/outcome="failed"/);
  });

  it('resumes after a restart from the committed offsets', async () => {
    await publishCounters(4, 10);
    const first: number[] = [];
    const router = createRouter({ transport, catalog: counterCatalog, group: 'g', ...quiet });
    router.on(CounterIncremented, (event) => void first.push(event.data!.seq));
    await router.start();
    await until(() => first.length === 40);
    await router.close();

    await publishCounters(4, 5, 100);
    const second: number[] = [];
    const again = createRouter({ transport, catalog: counterCatalog, group: 'g', ...quiet });
    again.on(CounterIncremented, (event) => void second.push(event.data!.seq));
    await again.start();
    await until(() => second.length >= 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await again.close();
    expect(second.sort((a, b) => a - b)).toEqual([
      100, 100, 100, 100, 101, 101, 101, 101, 102, 102, 102, 102, 103, 103, 103, 103, 104, 104, 104, 104,
    ]);
  });

  it('on SIGTERM stops fetching, finishes in-flight handlers, commits and exits 0', async () => {
    await publishCounters(6, 2);
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'test-support/slow-consumer.ts'), path, '300'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KEEL_LOG_LEVEL: 'info' },
      },
    );
    let closing = false;
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.includes('shutting down')) closing = true;
    });
    const started = new Set<number>();
    const done = new Set<number>();
    let ready = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, seq] = line.split(' ');
      if (word === 'ready') ready = true;
      if (word === 'start') started.add(Number(seq));
      if (word === 'done') done.add(Number(seq));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => ready && started.size > 0);
    child.kill('SIGTERM');
    await until(() => closing);
    await publishCounters(6, 1, 50);
    const code = await exited;

    expect(code).toBe(0);
    expect([...started].sort()).toEqual([...done].sort());
    expect([...done].some((seq) => seq >= 50)).toBe(false);
    // Every event handled before the exit is committed; the six published after SIGTERM are not.
    expect(await lagOf('sigterm')).toBe(6);
  }, 20_000);
});
