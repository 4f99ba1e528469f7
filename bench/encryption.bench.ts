// Field encryption on vs off, same run: publish and consume rates on the embedded log, sealing three
// sensitive fields of eight per event, 1,000 patients (one data key each).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { openPhi } from '../src/bus/middleware/open-phi.ts';
import { createPublisher } from '../src/bus/publisher.ts';
import { createRouter } from '../src/bus/router.ts';
import { createCatalog } from '../src/events/catalog.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { defineTopic } from '../src/events/define-topic.ts';
import { createFieldEncryption, type FieldEncryption } from '../src/security/encryption/field-encryption.ts';
import { masterKeyFrom } from '../src/security/encryption/master-key.ts';
import { createSqliteKeyStore } from '../src/security/encryption/sqlite/sqlite-key-store.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const TOTAL = 20_000;
const BATCH = 100;
const PATIENTS = 1_000;
/** Runs of each mode, alternating which goes first. */
const PAIRS = 6;

const VitalsRecorded = defineEvent({
  type: 'bench.phi.vitals',
  version: 1,
  schema: z.object({
    patientId: z.string(),
    name: z.string(),
    dateOfBirth: z.string(),
    mrn: z.string(),
    ward: z.string(),
    heartRate: z.number(),
    systolic: z.number(),
    recordedBy: z.string(),
  }),
  sensitive: ['/name', '/dateOfBirth', '/mrn'],
  partitionKey: (data) => data.patientId,
});
const catalog = createCatalog({
  topics: [defineTopic({ name: 'bench.phi', partitions: 4, replication: 1, events: [VitalsRecorded] })],
});
const vitals = (n: number) => ({
  patientId: `patient-${n % PATIENTS}`,
  name: `Patient Number ${n % PATIENTS}`,
  dateOfBirth: '1970-01-01',
  mrn: `MRN-${(n % PATIENTS).toString().padStart(8, '0')}`,
  ward: 'cardiology',
  heartRate: 60 + (n % 40),
  systolic: 110 + (n % 30),
  recordedBy: 'nurse-7',
});

/** Publishes TOTAL events in batches, then consumes them with a router; events per second of each. */
async function run(encryption: FieldEncryption | undefined): Promise<{ publish: number; consume: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-phi-'));
  const transport = createEmbeddedTransport({
    path: join(dir, 'log.db'),
    synchronous: 'normal',
    logger: silent,
  });
  try {
    await transport.ensureTopics(catalog.topics);
    const publisher = createPublisher({
      transport,
      catalog,
      source: 'urn:bench',
      logger: silent,
      ...(encryption ? { sealer: encryption.seal } : {}),
    });
    const publishStarted = performance.now();
    for (let i = 0; i < TOTAL; i += BATCH) {
      await publisher.publishMany(
        VitalsRecorded,
        Array.from({ length: BATCH }, (_, j) => vitals(i + j)),
      );
    }
    const publish = TOTAL / ((performance.now() - publishStarted) / 1000);
    await publisher.close();

    let seen = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const router = createRouter({
      transport,
      catalog,
      group: 'bench',
      logger: silent,
      shutdownSignals: [],
      middleware: encryption ? [openPhi(encryption, { canReadPhi: true })] : [],
    });
    router.on(VitalsRecorded, () => {
      if (++seen === TOTAL) done();
    });
    const consumeStarted = performance.now();
    await router.start();
    await finished;
    const consume = TOTAL / ((performance.now() - consumeStarted) / 1000);
    await router.close();
    return { publish, consume };
  } finally {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Publish and consume with field encryption on and off, interleaved; overhead = off rate / on rate − 1. */
export async function encryptionBenchmarks(): Promise<BenchResult[]> {
  const on: Array<{ publish: number; consume: number }> = [];
  const off: Array<{ publish: number; consume: number }> = [];
  const keysDir = mkdtempSync(join(tmpdir(), 'keel-bench-phi-keys-'));
  const encryption = createFieldEncryption({
    keyStore: createSqliteKeyStore({ path: join(keysDir, 'keys.db') }),
    masterKey: masterKeyFrom(Buffer.alloc(32, 7)),
    catalog,
  });
  await encryption.start();
  // Warm-up (JIT, page cache), and every patient's data key made: a new subject's first event costs one
  // durable key store write, once; the figures are for subjects the node has seen.
  const keysStarted = performance.now();
  await encryption.seal(
    Array.from({ length: PATIENTS }, (_, n) => ({
      specversion: '1.0',
      id: `warm-${n}`,
      source: 'urn:bench',
      type: VitalsRecorded.type,
      subject: `patient-${n}`,
      data: vitals(n),
    })),
  );
  const keyMillis = (performance.now() - keysStarted) / PATIENTS;
  await run(undefined);
  try {
    for (let pair = 0; pair < PAIRS; pair++) {
      const order = pair % 2 === 0 ? [false, true] : [true, false];
      for (const encrypted of order)
        (encrypted ? on : off).push(await run(encrypted ? encryption : undefined));
    }
  } finally {
    await encryption.close();
    rmSync(keysDir, { recursive: true, force: true });
  }
  const median = (list: Array<{ publish: number; consume: number }>, key: 'publish' | 'consume') =>
    percentile(
      list.map((r) => r[key]),
      50,
    );
  const results: BenchResult[] = [];
  for (const key of ['publish', 'consume'] as const) {
    const plain = median(off, key);
    const sealed = median(on, key);
    results.push(
      {
        name: `${key} with field encryption (3 of 8 fields, embedded, batches of ${BATCH})`,
        value: Math.round(sealed),
        unit: 'events/s',
        note: `off: ${Math.round(plain)} events/s; median of ${PAIRS} runs each; a new subject's key: ${keyMillis.toFixed(1)} ms once`,
      },
      {
        name: `${key} overhead of field encryption`,
        value: Math.round((plain / sealed - 1) * 1000) / 10,
        unit: '%',
        target: 20,
        better: 'lower',
        note: `${Math.round(plain)} → ${Math.round(sealed)} events/s`,
      },
    );
  }
  return results;
}
