import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openPhi } from '../../bus/middleware/open-phi.ts';
import { createPublisher } from '../../bus/publisher.ts';
import { createRouter } from '../../bus/router.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { createEvent } from '../../events/create-event.ts';
import { MASKED_VALUE, REDACTED_VALUE } from '../../events/sensitive-fields.ts';
import type { EventStore } from '../../store/event-store.ts';
import { createPostgresEventStore } from '../../store/postgres/postgres-event-store.ts';
import { createAsyncProjection } from '../../store/projections/async-projection.ts';
import { defineProjection } from '../../store/projections/projection.ts';
import { protectedEventStore } from '../../store/protected-store.ts';
import { createSqliteEventStore } from '../../store/sqlite/sqlite-event-store.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createKafkaTransport } from '../../transport/kafka/index.ts';
import type { Transport } from '../../transport/transport.ts';
import { createFieldEncryption, type FieldEncryption } from './field-encryption.ts';
import type { KeyStore } from './key-store.ts';
import { createPostgresKeyStore } from './postgres/postgres-key-store.ts';
import { parseSealed } from './sealed-value.ts';
import { createSqliteKeyStore } from './sqlite/sqlite-key-store.ts';
import { admission, PatientAdmitted, phiCatalog, randomMasterKey } from './test-support/phi-fixtures.ts';
import {
  deleteKafkaTopics,
  kafkaBrokers,
  rawEmbeddedValues,
  rawKafkaValues,
  rawSqliteStoreEvents,
} from './test-support/raw-readers.ts';

const quiet = { logger: pino({ level: 'silent' }) };
const ERASED = 'patient-erased';
const KEPT = 'patient-kept';
const until = async (check: () => boolean | Promise<boolean>, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** Names of the PHI of a patient as they would appear in plain bytes. */
const plainPhi = (patientId: string) => [`Name-${patientId}`, `Street-${patientId}`];

/**
 * Reads each raw value's sealed fields with nothing but the key store and master key (a fresh instance,
 * no cache): which patients' names still decrypt. An erased patient's never do.
 */
async function decryptableNames(raw: readonly string[], setup: Setup) {
  const { master, catalog } = setup;
  const fresh = createFieldEncryption({
    keyStore: setup.keyStore(),
    masterKey: master,
    catalog,
    keyCacheMs: 0,
  });
  await fresh.start();
  const names: string[] = [];
  for (const text of raw) {
    const data = JSON.parse(text) as { name: string; patientId: string };
    const sealed = parseSealed(data.name);
    expect(sealed, `raw value ${text} has a sealed name`).toBeDefined();
    const event = createEvent(PatientAdmitted, admission(data.patientId), { source: 'urn:raw' });
    const opened = await fresh.open({ ...event, data } as CloudEvent, { canReadPhi: true });
    names.push(String((opened.data as { name: string }).name));
  }
  await fresh.close();
  return names.sort();
}

interface Setup {
  catalog: ReturnType<typeof phiCatalog>;
  encryption: FieldEncryption;
  /** A new handle on the key store the encryption uses (another process's view). */
  keyStore: () => KeyStore;
  master: ReturnType<typeof randomMasterKey>;
  dir: string;
}

async function setUp(
  topic: string,
  dir = mkdtempSync(join(tmpdir(), 'keel-erasure-')),
  keyStore: () => KeyStore = () => createSqliteKeyStore({ path: join(dir, 'keys.db') }),
): Promise<Setup> {
  const catalog = phiCatalog(topic);
  const master = randomMasterKey();
  const encryption = createFieldEncryption({ keyStore: keyStore(), masterKey: master, catalog });
  await encryption.start();
  return { catalog, encryption, keyStore, master, dir };
}

const transports: Array<{
  name: string;
  open(dir: string): Transport;
  raw(setup: Setup, topic: string): string[];
}> = [
  {
    name: 'embedded',
    open: (dir) => createEmbeddedTransport({ path: join(dir, 'log.db'), ...quiet }),
    raw: (setup) => rawEmbeddedValues(join(setup.dir, 'log.db')),
  },
  {
    name: 'kafka',
    open: () => createKafkaTransport({ brokers: kafkaBrokers(), clientId: 'keel-phi-test', ...quiet }),
    raw: (_, topic) => rawKafkaValues(topic),
  },
];

describe.each(transports)('erasure on the $name log', (kind) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('publishes sealed PHI; after erasing one patient its fields never decrypt, the other’s do, and replay still runs', async () => {
    const topic = `keel-phi-${kind.name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const setup = await setUp(topic);
    const transport = kind.open(setup.dir);
    cleanups.push(async () => {
      await setup.encryption.close();
      rmSync(setup.dir, { recursive: true, force: true });
    });
    cleanups.push(async () => {
      await transport.close();
      if (kind.name === 'kafka') await deleteKafkaTopics([topic, `${topic}.dlq`]);
    });
    await transport.ensureTopics([...setup.catalog.topics]);
    const publisher = createPublisher({
      transport,
      catalog: setup.catalog,
      source: 'urn:test',
      sealer: setup.encryption.seal,
      ...quiet,
    });
    for (const patient of [ERASED, KEPT, ERASED, KEPT])
      await publisher.publish(PatientAdmitted, admission(patient));
    await publisher.close();

    const before = kind.raw(setup, topic);
    expect(before).toHaveLength(4);
    for (const text of before)
      for (const phi of [...plainPhi(ERASED), ...plainPhi(KEPT)]) expect(text).not.toContain(phi);
    expect(await decryptableNames(before, setup)).toEqual([
      `Name-${ERASED}`,
      `Name-${ERASED}`,
      `Name-${KEPT}`,
      `Name-${KEPT}`,
    ]);

    expect(await setup.encryption.erase(ERASED)).toEqual({ subject: ERASED, keysDestroyed: 1 });

    const after = kind.raw(setup, topic);
    expect(after).toEqual(before); // every event stays in the log, byte for byte
    expect(await decryptableNames(after, setup)).toEqual([
      `Name-${KEPT}`,
      `Name-${KEPT}`,
      REDACTED_VALUE,
      REDACTED_VALUE,
    ]);

    // Replay: a new group reads the whole log; validation passes, PHI is plain, redacted or masked by reader.
    for (const reader of [{ canReadPhi: true }, { canReadPhi: false }]) {
      const seen: CloudEvent[] = [];
      const router = createRouter({
        transport,
        catalog: setup.catalog,
        group: `replay-${reader.canReadPhi}-${randomBytes(3).toString('hex')}`,
        middleware: [openPhi(setup.encryption, reader)],
        shutdownSignals: [],
        ...quiet,
      });
      router.on(PatientAdmitted, (event) => void seen.push(event));
      await router.start();
      await until(() => seen.length === 4);
      await router.close();
      const names = seen.map((event) => event.data as { patientId: string; name: string });
      for (const { patientId, name } of names) {
        if (!reader.canReadPhi) expect(name).toBe(MASKED_VALUE);
        else expect(name).toBe(patientId === ERASED ? REDACTED_VALUE : `Name-${KEPT}`);
      }
    }
  });
});

const patientNames = defineProjection({
  name: 'patient_names',
  types: [PatientAdmitted.type],
  createTable: (table) => [
    `CREATE TABLE ${table.name} (patient_id text PRIMARY KEY, name text NOT NULL, dob text NOT NULL)`,
  ],
  async apply(events, { transaction, table }) {
    for (const { event } of events) {
      const data = event.data as { patientId: string; name: string; dateOfBirth: string };
      const sql =
        table.dialect === 'postgres'
          ? `INSERT INTO ${table.name} VALUES ($1, $2, $3) ON CONFLICT (patient_id) DO UPDATE SET name = excluded.name, dob = excluded.dob`
          : `INSERT INTO ${table.name} VALUES (?, ?, ?) ON CONFLICT (patient_id) DO UPDATE SET name = excluded.name, dob = excluded.dob`;
      await transaction.query(sql, [data.patientId, data.name, data.dateOfBirth]);
    }
  },
});

usePostgresTestLock();
const stores: Array<{
  name: string;
  /** The store, its raw rows, and its key store: SQLite beside the SQLite store, PostgreSQL in the store's schema. */
  open(dir: string): Promise<{
    store: EventStore;
    raw(): Promise<string[]>;
    keyStore(): KeyStore;
    close(): Promise<void>;
  }>;
}> = [
  {
    name: 'sqlite',
    async open(dir) {
      const path = join(dir, 'store.db');
      const store = createSqliteEventStore({ path });
      return {
        store,
        raw: async () => rawSqliteStoreEvents(path),
        keyStore: () => createSqliteKeyStore({ path: join(dir, 'keys.db') }),
        close: () => store.close(),
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = testSchemaName('phi');
      const admin = adminConnection();
      const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 2 });
      return {
        store,
        raw: async () =>
          (
            await admin.unsafe(`SELECT event::text AS event FROM "${schema}".store_events ORDER BY position`)
          ).map((row) => String(row.event)),
        keyStore: () => createPostgresKeyStore({ url: postgresUrl, schema }),
        async close() {
          await store.close();
          await dropSchema(admin, schema);
          await admin.end();
        },
      };
    },
  },
];

describe.each(stores)('erasure in the $name event store', (kind) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('stores sealed PHI; after erasing one patient the raw rows stay and never decrypt, projections rebuild', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-erasure-'));
    const opened = await kind.open(dir);
    cleanups.push(async () => {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const setup = await setUp('phi.store', dir, opened.keyStore);
    cleanups.push(() => setup.encryption.close());
    const store = protectedEventStore(opened.store, setup.encryption, { canReadPhi: true });
    for (const patient of [ERASED, KEPT]) {
      const event = createEvent(PatientAdmitted, admission(patient), {
        source: 'urn:test',
        subject: patient,
      });
      await store.append(`patient-${patient}`, [event]);
    }
    const rawData = async () =>
      (await opened.raw()).map((json) => JSON.stringify((JSON.parse(json) as { data: unknown }).data));
    const before = await rawData();
    expect(before).toHaveLength(2);
    for (const text of before)
      for (const phi of [...plainPhi(ERASED), ...plainPhi(KEPT)]) expect(text).not.toContain(phi);

    const projection = createAsyncProjection({
      store,
      projection: patientNames,
      pollIntervalMs: 20,
      ...quiet,
    });
    await projection.start();
    await projection.caughtUp();
    const names = async () =>
      (
        await opened.store.transaction((tx) =>
          tx.query<{ patient_id: string; name: string; dob: string }>(
            `SELECT patient_id, name, dob FROM ${tx.table('patient_names')} ORDER BY patient_id`,
          ),
        )
      ).map((row) => `${row.patient_id}=${row.name}/${row.dob}`);
    expect(await names()).toEqual([`${ERASED}=Name-${ERASED}/1980-02-29`, `${KEPT}=Name-${KEPT}/1980-02-29`]);

    await setup.encryption.erase(ERASED);
    expect(await rawData()).toEqual(before);
    expect(await decryptableNames(await rawData(), setup)).toEqual([`Name-${KEPT}`, REDACTED_VALUE]);
    // A projection rebuilt after the erasure holds no PHI of the erased patient.
    await projection.rebuild();
    expect(await names()).toEqual([
      `${ERASED}=${REDACTED_VALUE}/${REDACTED_VALUE}`,
      `${KEPT}=Name-${KEPT}/1980-02-29`,
    ]);
    await projection.stop();

    const masked = protectedEventStore(opened.store, setup.encryption, { canReadPhi: false });
    const page = await masked.readStream(`patient-${KEPT}`);
    expect(page.events[0]?.event.data).toMatchObject({ name: MASKED_VALUE, ward: 'cardiology' });
    const read = await store.readStream(`patient-${ERASED}`);
    expect(read.events[0]?.event.data).toMatchObject({
      name: REDACTED_VALUE,
      address: { line1: REDACTED_VALUE, city: 'Lyon' },
    });
  });
});
