// The admission saga on the embedded default (one SQLite file for the bus, the event store and the
// workflow tables), from an admission request on the bus to the ward's notification:
//   node examples/admission-saga/main.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createPublisher } from '../../src/bus/publisher.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/index.ts';
import { createEmbeddedTransport } from '../../src/transport/embedded/index.ts';
import { createWorkflowEngine } from '../../src/workflows/engine.ts';
import { createSqliteWorkflowBackend } from '../../src/workflows/sqlite/index.ts';
import { admissionSaga, startBedService } from './admission-saga.ts';
import { AdmissionRequested, AdmissionTopic, admissionCatalog, BedTopic } from './events.ts';
import { createHospital } from './hospital.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-admission-'));
const path = join(dir, 'keel.db');
const logger = pino({ level: 'warn' });
const transport = createEmbeddedTransport({ path, logger });
await transport.ensureTopics([AdmissionTopic, BedTopic]);
const store = createSqliteEventStore({ path });
const backend = createSqliteWorkflowBackend({ path });
const publisher = createPublisher({ transport, catalog: admissionCatalog, source: 'urn:keel:example:ward' });

const hospital = createHospital(['cardio'], 2);
hospital.breakBed('cardio-bed-2');
const bedService = await startBedService({ transport, publisher, hospital, logger });
const engine = createWorkflowEngine({
  store,
  backend,
  workflows: [admissionSaga(hospital)],
  bus: { transport, catalog: admissionCatalog },
  logger,
});
await engine.startWorker();

// p-1 gets cardio-bed-1; p-2 gets the broken cardio-bed-2, so its admission is undone.
for (const patientId of ['p-1', 'p-2']) {
  await publisher.publish(AdmissionRequested, { patientId, wardId: 'cardio' });
  const view = await engine.waitForEnd(`admission-${patientId}`);
  console.log(`${patientId}: ${view.status}${view.error ? ` (${view.error.message})` : ''}`);
  for (const entry of view.history) console.log(`  v${entry.version} ${entry.type}`);
}
console.log('hospital log:', hospital.log);

await engine.close();
await bedService.close();
await publisher.close();
await backend.close();
await store.close();
await transport.close();
rmSync(dir, { recursive: true, force: true });
