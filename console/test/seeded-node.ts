import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { build } from 'vite';
import { catalog, PatientEvents } from '../../examples/catalog.ts';
import { configSchema } from '../../src/config/config-schema.ts';
import { createNode, type KeelNode } from '../../src/server/node.ts';
import { allRecords, seedDeadLetters, seedPatients } from '../../src/server/test-support/api-fixture.ts';
import { consoleProjections, consoleWorkflows } from './seed-store.ts';

/** The example catalog's topic, which the seeded node fills. */
export const TOPIC = PatientEvents.name;
/** A consumer group that read the first events and is behind by the later ones. */
export const GROUP = 'admissions-readers';

/** What the seed wrote, so tests know the numbers the console must show. */
export const SEED = {
  /** Events on the topic. */
  events: 150,
  /** Events the group read and committed before the rest were published. */
  consumed: 120,
  /** The group's lag: events published after it committed. */
  lag: 30,
  /** Pending dead letters of the group, by kind. */
  validationFailures: 5,
  timeoutFailures: 2,
} as const;

/** A node on a fresh SQLite file (embedded transport) serving a console built for the test, with seeded data. */
export interface SeededNode {
  node: KeelNode;
  url: string;
  close(): Promise<void>;
}

/** Builds the console into a temporary folder (the same Vite config as `npm run build`). */
export async function buildConsole(outDir: string): Promise<void> {
  await build({
    configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

/**
 * Starts a node with the example catalog and seeds events, a lagging group and dead letters; it runs the
 * console's workflows and holds its projection (`seed-store.ts` seeds those when a test asks).
 */
export async function startSeededNode(options: { exportEnabled?: boolean } = {}): Promise<SeededNode> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-console-'));
  const consoleDir = join(dir, 'console');
  await buildConsole(consoleDir);
  const config = configSchema.parse({
    port: 0,
    logLevel: 'silent',
    sync: 'normal',
    dataDir: join(dir, 'data'),
    ...options,
  });
  const node = createNode({
    config,
    catalog,
    logger: pino({ level: 'silent' }),
    checkAnswers: true,
    consoleDir,
    workflows: consoleWorkflows,
    projections: consoleProjections,
  });
  const url = await node.start();
  await seed(node);
  return {
    node,
    url,
    async close() {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function seed(node: KeelNode): Promise<void> {
  await seedPatients(node, SEED.consumed);
  const consumer = node.transport.consumer({ group: GROUP, topics: [TOPIC], sessionTimeoutMs: 3000 });
  let seen = 0;
  const deadline = Date.now() + 20_000;
  while (seen < SEED.consumed && Date.now() < deadline) {
    const records = await consumer.poll(500);
    seen += records.length;
    const next = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const r of records)
      next.set(`${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1n });
    if (next.size > 0) await consumer.commit([...next.values()]);
  }
  await consumer.close();
  if (seen !== SEED.consumed) throw new Error(`seed: the group read ${seen} of ${SEED.consumed} events`);
  await seedPatients(node, SEED.lag);
  const records = await allRecords(node, TOPIC);
  await seedDeadLetters(
    node,
    GROUP,
    records.slice(0, SEED.validationFailures),
    'ValidationError',
    'admissions:validate',
  );
  await seedDeadLetters(
    node,
    GROUP,
    records.slice(SEED.validationFailures, SEED.validationFailures + SEED.timeoutFailures),
    'TimeoutError',
    'admissions:notify',
  );
}
