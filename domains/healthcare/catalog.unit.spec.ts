import { describe, expect, it } from 'vitest';
import { upcastData } from '../../src/index.ts';
import { catalog, VitalSignsRecorded } from './catalog.ts';
import { exampleOf } from './define.ts';

/** Every event the issue names, by domain: the pack must have each. */
const NAMED_TYPES = [
  'healthcare.patient.created',
  'healthcare.patient.updated',
  'healthcare.patient.merged',
  'healthcare.patient.deactivated',
  'healthcare.appointment.scheduled',
  'healthcare.appointment.confirmed',
  'healthcare.appointment.cancelled',
  'healthcare.appointment.completed',
  'healthcare.appointment.no-show',
  'healthcare.encounter.started',
  'healthcare.encounter.ended',
  'healthcare.vital-signs.recorded',
  'healthcare.diagnosis.added',
  'healthcare.prescription.created',
  'healthcare.lab-result.received',
  'healthcare.journey.started',
  'healthcare.journey.stage-completed',
  'healthcare.journey.completed',
  'healthcare.journey.action-triggered',
  'healthcare.ingest.fhir-bundle.received',
  'healthcare.ingest.hl7-message.received',
  'healthcare.ingest.batch-file.received',
  'healthcare.agent.task.requested',
  'healthcare.agent.task.completed',
  'healthcare.agent.task.failed',
  'healthcare.notification.alert.raised',
  'healthcare.claim.submitted',
  'healthcare.claim.denied',
  'healthcare.claim.appeal-filed',
  'healthcare.claim.paid',
  'healthcare.care-gap.identified',
  'healthcare.care-gap.closed',
  'healthcare.audit.record.accessed',
];

const DAY_MS = 24 * 3600 * 1000;

describe('the healthcare catalog', () => {
  it('has every event type the seeds name, each on a topic', () => {
    expect(catalog.events.map((event) => event.type).sort()).toEqual([...NAMED_TYPES].sort());
    for (const type of NAMED_TYPES) expect(catalog.route(type).topic.name).toMatch(/^healthcare\./);
  });

  it.each(catalog.events.map((event) => [event.type, event] as const))(
    '%s has a description, a version, a partition key and an example its schema accepts',
    (_type, event) => {
      expect(event.description?.length).toBeGreaterThan(10);
      expect(event.version).toBeGreaterThanOrEqual(1);
      expect(event.partitionKey).toBeTypeOf('function');
      const example = exampleOf(event);
      expect(example).toBeDefined();
      const parsed = event.schema.safeParse(example);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(event.partitionKey?.(parsed.data as never)).toMatch(/\S/);
    },
  );

  it("lists each example in the type's JSON Schema, where the catalog API and its tools read it", () => {
    const schemas = catalog.jsonSchemas();
    for (const event of catalog.events) {
      expect(schemas[event.type]?.examples).toEqual([exampleOf(event)]);
    }
  });

  it('lays the topics out as the seeds give them, replicated three times on Kafka', () => {
    const layout = Object.fromEntries(
      catalog.topics.map((topic) => [
        topic.name,
        { partitions: topic.partitions, days: (topic.retentionMs ?? 0) / DAY_MS, compacted: topic.compacted },
      ]),
    );
    expect(layout).toMatchObject({
      'healthcare.patients.events': { partitions: 12, days: 30, compacted: false },
      'healthcare.appointments.events': { partitions: 12, days: 30, compacted: false },
      'healthcare.clinical.events': { partitions: 24, days: 90, compacted: false },
      'healthcare.journeys.events': { partitions: 6, days: 30, compacted: true },
    });
    expect(Object.keys(layout)).toEqual(
      expect.arrayContaining([
        'healthcare.ingest.events',
        'healthcare.agents.events',
        'healthcare.notifications.events',
        'healthcare.rcm.events',
        'healthcare.quality.events',
      ]),
    );
    for (const topic of catalog.topics) expect(topic.replication).toBe(3);
  });

  it('keys journey events by journey, so compaction keeps the newest event of each journey', () => {
    for (const event of catalog.topic('healthcare.journeys.events')?.events ?? []) {
      const example = exampleOf(event) as { journeyId: string };
      expect(event.partitionKey?.(example as never)).toBe(example.journeyId);
    }
  });

  it('declares no sensitive field, so that `keel start` needs no master key', () => {
    for (const event of catalog.events) expect(event.sensitive).toEqual([]);
  });
});

describe('vital signs, version 2', () => {
  it('reads version 1 data through its upcaster into a valid version 2', () => {
    const v1 = {
      patientId: 'patient-9',
      recordedAt: '2024-12-02T10:15:00Z',
      heartRate: 72,
      systolic: 118,
      diastolic: 76,
      temperatureC: 36.8,
      spo2: 99,
    };
    const v2 = upcastData(VitalSignsRecorded, 1, v1);
    expect(v2).toEqual({
      patientId: 'patient-9',
      recordedAt: '2024-12-02T10:15:00Z',
      vitals: {
        heartRate: 72,
        bloodPressure: { systolic: 118, diastolic: 76 },
        temperature: { value: 36.8, unit: 'Cel' },
        oxygenSaturation: 99,
      },
    });
    expect(VitalSignsRecorded.schema.safeParse(v2).success).toBe(true);
  });

  it('leaves out what version 1 did not have, and refuses data that was never version 1', () => {
    expect(upcastData(VitalSignsRecorded, 1, { patientId: 'p', recordedAt: '2024-12-02T10:15:00Z' })).toEqual(
      {
        patientId: 'p',
        recordedAt: '2024-12-02T10:15:00Z',
        vitals: {},
      },
    );
    expect(() => upcastData(VitalSignsRecorded, 1, { patientId: 'p' })).toThrow(
      expect.objectContaining({ code: 'KEEL_UPCAST', reason: 'upcaster_failed' }),
    );
  });
});
