import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated } from '../../../examples/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import { patientCatalog } from '../../server/test-support/api-fixture.ts';
import { patientCounts } from '../../server/test-support/store-suite.ts';
import { startTempNode, type TempNode } from '../../server/test-support/temp-node.ts';
import { apiWorkflows } from '../../server/test-support/workflows-suite.ts';
import { createAsyncProjection } from '../../store/projections/async-projection.ts';
import { runCli } from '../test-support/run-cli.ts';

const TOPIC = 'cli.store.patients';
let temp: TempNode;
const keel = (args: string[]) => runCli(args, { env: { KEEL_URL: temp.node.url! }, timeoutMs: 30_000 });
const created = (patientId: string, lastName: string, correlationId?: string) =>
  createEvent(
    PatientCreated,
    { patientId, firstName: 'Ada', lastName, dateOfBirth: '1815-12-10' },
    { source: 'urn:test:cli', ...(correlationId ? { correlationId } : {}) },
  );

beforeAll(async () => {
  temp = await startTempNode({
    catalog: patientCatalog(TOPIC),
    projections: [patientCounts],
    workflows: apiWorkflows,
  });
  const { store } = temp.node.store;
  await store.append('patient-a', [created('a', 'Lovelace', 'cli-trace')]);
  await store.append('patient-b', [created('b', 'Byron'), created('b2', 'Byron')]);
  // The projection has run against the store once, as a service would run it.
  const projection = createAsyncProjection({ store, projection: patientCounts, pollIntervalMs: 20 });
  await projection.start();
  await projection.caughtUp();
  await projection.stop();
});
afterAll(async () => {
  await temp?.close();
});

describe('keel streams and projections', () => {
  it('lists streams and shows one with its events and versions', async () => {
    const list = await keel(['streams', 'list', '-o', 'json']);
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as { streamId: string }[]).map((s) => s.streamId)).toEqual([
      'patient-a',
      'patient-b',
    ]);
    const shown = await keel(['streams', 'show', 'patient-b']);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/stream:\s+patient-b/);
    expect(shown.stdout).toMatch(/\n\s+1\s+\d+\s+\S+\s+healthcare\.patient\.created/);
    expect(shown.stdout).toMatch(/\n\s+2\s+\d+\s+\S+\s+healthcare\.patient\.created/);
    expect((await keel(['streams', 'show', 'patient-none'])).status).toBe(3);
  });

  it('lists projections and rebuilds one as a job to the end', async () => {
    const list = await keel(['projections', 'list', '-o', 'json']);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((p) => p.name)).toContain(
      'api_patient_counts',
    );
    const rebuilt = await keel(['projections', 'rebuild', 'api_patient_counts']);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/job \S+ succeeded/);
    expect((await keel(['projections', 'rebuild', 'no_such_projection'])).status).toBe(3);
  });
});

describe('keel workflows', () => {
  it('lists instances by status, shows one timeline, signals and cancels', async () => {
    const engine = temp.node.store.workflows;
    const { instanceId: urgent } = await engine.start('api-urgent', {});
    const { instanceId: admission } = await engine.start('api-admission', { patient: 'p-1' });
    const list = await keel(['workflows', 'list', '--definition', 'api-urgent', '-o', 'json']);
    expect((JSON.parse(list.stdout) as { instanceId: string }[]).map((i) => i.instanceId)).toContain(urgent);

    const shown = await keel(['workflows', 'show', urgent]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/workflow:\s+api-urgent@1/);
    expect(shown.stdout).toContain('triage');

    const signalled = await keel(['workflows', 'signal', urgent, 'go', '--payload', '{"by":"cli"}']);
    expect(signalled.status, signalled.stderr).toBe(0);
    const badPayload = await keel(['workflows', 'signal', urgent, 'go', '--payload', '{by']);
    expect(badPayload.status).toBe(2);

    const cancelled = await keel(['workflows', 'cancel', admission, '--reason', 'admitted elsewhere']);
    expect(cancelled.status, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(admission);
    const unknown = await keel(['workflows', 'cancel', 'no-such-instance', '--reason', 'x']);
    expect(unknown.status).toBe(3);
    expect((await keel(['workflows', 'cancel', urgent])).status).toBe(2);
  });
});

describe('keel trace', () => {
  it('draws the causation tree of a correlation id, by event or by id', async () => {
    const root = await temp.node.publisher.publish(
      PatientCreated,
      { patientId: 't-1', firstName: 'Ada', lastName: 'Traced', dateOfBirth: '1815-12-10' },
      { correlationId: 'cli-trace-2' },
    );
    await temp.node.publisher.publish(
      PatientCreated,
      { patientId: 't-2', firstName: 'Ada', lastName: 'Child', dateOfBirth: '1815-12-10' },
      { correlationId: 'cli-trace-2', causationId: root.id },
    );
    const byEvent = await keel(['trace', root.id]);
    expect(byEvent.status, byEvent.stderr).toBe(0);
    const lines = byEvent.stdout.trim().split('\n');
    expect(lines[0]).toBe('correlation cli-trace-2');
    expect(lines[1]).toMatch(new RegExp(`^healthcare\\.patient\\.created  ${root.id}`));
    expect(lines[2]).toMatch(/^ {2}healthcare\.patient\.created /);
    const byCorrelation = await keel(['trace', '--correlation-id', 'cli-trace-2', '-o', 'json']);
    expect((JSON.parse(byCorrelation.stdout) as { events: unknown[] }).events).toHaveLength(2);
    expect((await keel(['trace'])).status).toBe(2);
  });
});
