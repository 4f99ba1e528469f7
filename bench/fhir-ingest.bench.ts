// FHIR R4 ingestion through the node's HTTP API (embedded transport, SQLite, synchronous=full as shipped):
// transaction bundles of 100 entries (patients, vital signs, lab results, diagnoses), entries per second.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { catalog, ingestors } from '../domains/healthcare/catalog.ts';
import { configSchema } from '../src/config/config-schema.ts';
import { createNode } from '../src/server/node.ts';
import { type BenchResult, percentile } from './stats.ts';

const BUNDLES = Number(process.env.KEEL_BENCH_FHIR_BUNDLES ?? 100);
const ENTRIES = 100;
const CONCURRENCY = 4;

/** One synthetic patient's resources: a Patient, a vital-signs and a laboratory Observation, a Condition. */
function resourcesOf(n: number): Record<string, unknown>[] {
  const patient = `bench-p-${n}`;
  const subject = { reference: `urn:uuid:${patient}` };
  const lab = (code: string) => [
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] },
  ];
  return [
    {
      resourceType: 'Patient',
      id: patient,
      meta: { versionId: '1' },
      name: [{ family: `Family${n}`, given: ['Given'] }],
      birthDate: '1970-01-01',
      gender: 'female',
    },
    {
      resourceType: 'Observation',
      id: `bench-hr-${n}`,
      meta: { versionId: '1' },
      status: 'final',
      category: lab('vital-signs'),
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject,
      effectiveDateTime: '2024-12-02T10:00:00Z',
      valueQuantity: {
        value: 60 + (n % 40),
        unit: '/min',
        system: 'http://unitsofmeasure.org',
        code: '/min',
      },
    },
    {
      resourceType: 'Observation',
      id: `bench-glu-${n}`,
      meta: { versionId: '1' },
      status: 'final',
      category: lab('laboratory'),
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
      subject,
      effectiveDateTime: '2024-12-02T11:00:00Z',
      valueQuantity: {
        value: 80 + (n % 60),
        unit: 'mg/dL',
        system: 'http://unitsofmeasure.org',
        code: 'mg/dL',
      },
    },
    {
      resourceType: 'Condition',
      id: `bench-cond-${n}`,
      meta: { versionId: '1' },
      subject,
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I10' }] },
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
    },
  ];
}

/** A transaction bundle of 100 entries: 25 patients with their three resources each. */
function bundle(index: number): string {
  const resources = Array.from({ length: ENTRIES / 4 }, (_, i) => resourcesOf(index * 1000 + i)).flat();
  return JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({
      fullUrl: `urn:uuid:${resource.id}`,
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    })),
  });
}

async function post(base: string, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/ingest/fhir`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`ingest: ${response.status} ${text.slice(0, 300)}`);
  return performance.now() - started;
}

/** Entries per second over BUNDLES bundles posted by CONCURRENCY clients, after a first bundle that loads the definitions. */
export async function fhirIngestBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-fhir-'));
  const config = configSchema.parse({ port: 0, dataDir: dir, logLevel: 'silent' });
  const node = createNode({ config, catalog, ingestors, logger: pino({ level: 'silent' }) });
  try {
    const base = await node.start();
    const first = await post(base, bundle(BUNDLES + 1));
    const bodies = Array.from({ length: BUNDLES }, (_, i) => bundle(i));
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) latencies.push(await post(base, bodies[next++]!));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const replayStarted = performance.now();
    for (const body of bodies.slice(0, 10)) await post(base, body);
    const replaySeconds = (performance.now() - replayStarted) / 1000;
    return [
      {
        name: `FHIR transaction bundles of ${ENTRIES} entries, ${CONCURRENCY} clients`,
        value: Math.round((BUNDLES * ENTRIES) / seconds),
        unit: 'entries/s',
        note: `${BUNDLES} bundles; per bundle p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms; the first bundle (loading the R4 definitions) took ${first.toFixed(0)} ms`,
      },
      {
        name: `the same bundles again (nothing new stored), one client`,
        value: Math.round((10 * ENTRIES) / replaySeconds),
        unit: 'entries/s',
      },
    ];
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
