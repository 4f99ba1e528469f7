import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createPublisher } from '../../src/bus/publisher.ts';
import type { Router } from '../../src/bus/router-port.ts';
import { usePostgresTestLock } from '../../src/test-support/postgres-lock.ts';
import { createEmbeddedTransport } from '../../src/transport/embedded/index.ts';
import { createWorkflowEngine } from '../../src/workflows/engine.ts';
import type { WorkflowEngine } from '../../src/workflows/engine-types.ts';
import { openDatabase } from '../../src/workflows/test-support/databases.ts';
import { freshPlace } from '../../src/workflows/test-support/engine-processes.ts';
import { admissionSaga, startBedService } from './admission-saga.ts';
import { AdmissionRequested, AdmissionTopic, admissionCatalog, BedTopic } from './events.ts';
import { createHospital, type Hospital } from './hospital.ts';

// The PostgreSQL half takes its turn on the shared server with the other PostgreSQL test files.
usePostgresTestLock();

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The saga on a store adapter, the bus on an embedded transport, and the bed service answering on it. */
async function admissions(kind: 'sqlite' | 'postgres', hospital: Hospital) {
  const place = await freshPlace(kind, 'admission');
  cleanups.push(place.dispose);
  const db = await openDatabase(place.database);
  cleanups.push(db.close);
  const dir = await mkdtemp(join(tmpdir(), 'keel-admission-bus-'));
  const logger = pino({ level: 'silent' });
  const transport = createEmbeddedTransport({ path: join(dir, 'bus.db'), synchronous: 'normal', logger });
  cleanups.push(async () => {
    await transport.close();
    await rm(dir, { recursive: true, force: true });
  });
  await transport.ensureTopics([AdmissionTopic, BedTopic]);
  const publisher = createPublisher({
    transport,
    catalog: admissionCatalog,
    source: 'urn:keel:example',
    logger,
  });
  cleanups.push(() => publisher.close(1_000));
  const bedService: Router = await startBedService({ transport, publisher, hospital, logger });
  cleanups.push(() => bedService.close(1_000));
  const saga = admissionSaga(hospital);
  const engine: WorkflowEngine = createWorkflowEngine({
    store: db.store,
    backend: db.backend,
    workflows: [saga],
    bus: { transport, catalog: admissionCatalog, router: { commitIntervalMs: 20 } },
    logger,
    pollIntervalMs: 20,
  });
  cleanups.push(() => engine.close(2_000));
  await engine.startWorker();
  return { engine, saga, publisher };
}

describe.each(['sqlite', 'postgres'] as const)('patient admission saga (%s store)', (kind) => {
  it('admits a patient requested on the bus: bed held, admission created, bed assigned, ward notified', async () => {
    const hospital = createHospital(['cardio'], 2);
    const { engine, publisher } = await admissions(kind, hospital);
    // Delivered twice (a retrying producer): one saga per patient.
    await publisher.publish(AdmissionRequested, { patientId: 'p-1', wardId: 'cardio' });
    await publisher.publish(AdmissionRequested, { patientId: 'p-1', wardId: 'cardio' });
    const view = await engine.waitForEnd('admission-p-1', { timeoutMs: 15_000 });
    expect(view.status).toBe('completed');
    expect(view.output).toEqual({ notified: 'cardio' });
    expect(hospital.log).toEqual([
      'hold cardio-bed-1',
      'admit p-1 as adm-1',
      'assign cardio-bed-1 to p-1',
      'notify cardio: p-1 arrives in cardio-bed-1',
    ]);
    expect(hospital.bed('cardio-bed-1')).toBe('assigned to p-1');
    expect(await engine.list({ definition: 'patient-admission' })).toHaveLength(1);
  });

  it('when assigning the bed fails, cancels the admission and then releases the bed hold', async () => {
    const hospital = createHospital(['cardio'], 1);
    hospital.breakBed('cardio-bed-1');
    const { engine, saga } = await admissions(kind, hospital);
    const { instanceId } = await engine.start(saga, { patientId: 'p-2', wardId: 'cardio' });
    const view = await engine.waitForEnd(instanceId, { timeoutMs: 15_000 });
    expect(view.status).toBe('compensated');
    expect(view.error?.message).toContain('cardio-bed-1 is out of service');
    expect(view.compensation).toEqual({
      reason: 'failed',
      steps: ['create-admission', 'check-bed-availability'],
    });
    // In that order: the admission is cancelled first, then the bed hold is released.
    expect(hospital.log).toEqual([
      'hold cardio-bed-1',
      'admit p-2 as adm-1',
      'cancel adm-1',
      'release cardio-bed-1',
    ]);
    expect(hospital.admission('adm-1')).toBe('cancelled');
    expect(hospital.bed('cardio-bed-1')).toBe('free');
    const undone = view.history
      .filter((e) => e.type === 'keel.workflow.step.compensated')
      .map((e) => (e.data as { step: string }).step);
    expect(undone).toEqual(['create-admission', 'check-bed-availability']);
  });

  it('with no free bed, fails at the first step with nothing to undo', async () => {
    const hospital = createHospital(['cardio'], 0);
    const { engine, saga } = await admissions(kind, hospital);
    const { instanceId } = await engine.start(saga, { patientId: 'p-3', wardId: 'cardio' });
    const view = await engine.waitForEnd(instanceId, { timeoutMs: 15_000 });
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({ code: 'HOSPITAL_NO_BED' });
    expect(view.steps[0]).toMatchObject({ name: 'check-bed-availability', status: 'failed', attempt: 1 });
    expect(hospital.log).toEqual([]);
  });
});
