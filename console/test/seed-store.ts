import { PatientCreated, PatientEvents, PatientUpdated } from '../../examples/catalog.ts';
import type { PublishReceipt } from '../../src/bus/publisher-port.ts';
import { createRouter } from '../../src/bus/router.ts';
import type { CloudEvent } from '../../src/events/cloud-event.ts';
import { createEvent } from '../../src/events/create-event.ts';
import type { KeelNode } from '../../src/server/node.ts';
import { decodeRecord } from '../../src/server/topics/message-filter.ts';
import { createAsyncProjection } from '../../src/store/projections/async-projection.ts';
import { defineProjection } from '../../src/store/projections/projection.ts';
import { defineWorkflow } from '../../src/workflows/define-workflow.ts';

/** A projection counting patients per last name, which the console rebuilds. */
export const patientCounts = defineProjection({
  name: 'console_patient_counts',
  types: [PatientCreated.type],
  createTable: (table) => [`CREATE TABLE ${table.name} (last_name TEXT PRIMARY KEY, n INTEGER NOT NULL)`],
  async apply(events, { transaction, table }) {
    const sql = `INSERT INTO ${table.name} (last_name, n) VALUES (?, 1) ON CONFLICT (last_name) DO UPDATE SET n = n + 1`;
    for (const e of events) await transaction.query(sql, [(e.event.data as { lastName: string }).lastName]);
  },
});

/** The projections the console's node holds. */
export const consoleProjections = [patientCounts];

/** Whether the discharge's compensation may succeed (a test lets it before retrying from the console). */
export const compensations = { allowed: false };

/**
 * An admission waiting for approval (an hour of SLA), a discharge that needs an operator and a triage whose
 * 1 ms SLA is breached at once.
 */
export const consoleWorkflows = [
  defineWorkflow({
    id: 'console-admission',
    version: 1,
    slaMs: 3_600_000,
    steps: [
      { name: 'register', action: () => ({ bed: 1 }) },
      { name: 'approve', waitForSignal: 'approved' },
    ],
  }),
  // A discharge whose billing fails, and whose bed release (its compensation) fails until a test lets it:
  // the instance needs an operator.
  defineWorkflow({
    id: 'console-discharge',
    version: 1,
    compensationRetry: { maxAttempts: 1 },
    steps: [
      {
        name: 'release-bed',
        action: () => ({ released: true }),
        compensate: () => {
          if (!compensations.allowed) throw new Error('the bed service is down');
        },
      },
      {
        name: 'bill',
        retry: { maxAttempts: 1 },
        action: () => {
          throw new Error('billing refused');
        },
      },
    ],
  }),
  defineWorkflow({
    id: 'console-triage',
    version: 1,
    slaMs: 1,
    steps: [{ name: 'triage', waitForSignal: 'go' }],
  }),
];

/** What the store seed wrote, so tests know the numbers the console must show. */
export const STORE_SEED = {
  /** Streams: three patients (one of tenant `north`) and one order. */
  streams: ['order/1', 'patient-a', 'patient-b', 'patient-c'],
  /** Version of `patient-a`, which has a snapshot at version 2. */
  patientAVersion: 3,
  /** PatientCreated events the projection counts; appended after it ran once, so they are its lag. */
  lagAfterSeed: 1,
  admissions: 2,
  triages: 1,
} as const;

const source = 'urn:console:test';

function created(patientId: string, lastName: string, tenantId?: string) {
  return createEvent(
    PatientCreated,
    { patientId, firstName: 'Ada', lastName, dateOfBirth: '1815-12-10' },
    { source, ...(tenantId ? { tenantId } : {}) },
  );
}

/** Streams with versions and a snapshot, and the projection run once then left one event behind. */
export async function seedStore(node: KeelNode): Promise<void> {
  const { store } = node.store;
  await store.append('patient-a', [created('a', 'Lovelace')]);
  await store.append('patient-a', [
    createEvent(PatientUpdated, { patientId: 'a', changes: { email: 'ada@example.org' } }, { source }),
    createEvent(PatientUpdated, { patientId: 'a', changes: { lastName: 'King' } }, { source }),
  ]);
  await store.append('patient-b', [created('b', 'Byron', 'north')]);
  await store.append('order/1', [created('o', 'Babbage')]);
  await store.writeSnapshot({
    streamId: 'patient-a',
    name: 'patient',
    streamVersion: 2,
    stateVersion: 1,
    state: { n: 2 },
  });
  const projection = createAsyncProjection({ store, projection: patientCounts, pollIntervalMs: 20 });
  await projection.start();
  await projection.caughtUp();
  await projection.stop();
  await store.append('patient-c', [created('c', 'Somerville')]);
}

/** Starts a discharge and waits until it needs an operator (its compensation failed). */
export async function seedDischarge(node: KeelNode): Promise<string> {
  const engine = node.store.workflows;
  const { instanceId } = await engine.start('console-discharge', { patient: 'p-discharge' });
  await until(async () => (await engine.get(instanceId)).status === 'needs_operator');
  return instanceId;
}

/** Starts the admissions and the triage, and waits until each waits for its signal. */
export async function seedWorkflows(node: KeelNode): Promise<string[]> {
  const engine = node.store.workflows;
  const ids: string[] = [];
  for (let i = 0; i < STORE_SEED.admissions; i++)
    ids.push((await engine.start('console-admission', { patient: `p-${i}` })).instanceId);
  ids.push((await engine.start('console-triage', {})).instanceId);
  await until(async () => {
    for (const id of ids) if ((await engine.get(id)).status !== 'waiting') return false;
    return true;
  });
  return ids;
}

/**
 * A correlated chain: a PatientCreated published, a handler in `group` publishing the update it causes,
 * and a store event caused by that update. Answers the root and the child.
 */
export async function seedTrace(
  node: KeelNode,
  group: string,
): Promise<{ root: CloudEvent; child: CloudEvent; streamId: string }> {
  const patientId = `trace-${Date.now()}`;
  let child: CloudEvent | undefined;
  const router = createRouter({ transport: node.transport, catalog: node.catalog, group });
  router.on(PatientCreated, async (event) => {
    if (event.data?.patientId !== patientId) return;
    child = await eventAt(node, await node.publisher.publish(PatientUpdated, { patientId, changes: {} }));
  });
  router.on(PatientUpdated, async () => {});
  await router.start();
  try {
    const root = await eventAt(
      node,
      await node.publisher.publish(PatientCreated, {
        patientId,
        firstName: 'Ada',
        lastName: 'Trace',
        dateOfBirth: '1815-12-10',
      }),
    );
    await until(async () => child !== undefined);
    await until(async () => {
      const lag = await node.transport.groupLag(group, [PatientEvents.name]);
      return lag.every((p) => p.lag === 0n);
    });
    const streamId = `patient-${patientId}`;
    const stored = createEvent(
      PatientUpdated,
      { patientId, changes: { archived: true } },
      { source, correlationId: root.id, causationId: (child as CloudEvent).id },
    );
    await node.store.store.append(streamId, [stored]);
    return { root, child: child as CloudEvent, streamId };
  } finally {
    await router.close(10_000);
  }
}

async function eventAt(node: KeelNode, receipt: PublishReceipt): Promise<CloudEvent> {
  const [record] = await node.transport.read(receipt.topic, receipt.partition, receipt.offset, 1);
  const event = record === undefined ? undefined : decodeRecord(record);
  if (event === undefined) throw new Error(`seed: no event at ${receipt.topic}:${receipt.offset}`);
  return event;
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('seed: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
