import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalog, PatientCreated, PatientEvents } from '../../examples/catalog.ts';
import { UnknownEventTypeError, ValidationError } from '../events/errors.ts';
import { decodeHttp } from '../events/http-binding.ts';
import { fromRecord } from '../events/kafka-binding.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createEmbeddedTransport } from '../transport/embedded/index.ts';
import { partitionForKey } from '../transport/partitioner.ts';
import type { Transport } from '../transport/transport.ts';
import { batchIndexOf, EventTooLargeError } from './errors.ts';
import { createPublisher } from './publisher.ts';
import type { DecodedCloudEvent } from './publisher-port.ts';

const patient = (n: number) => ({
  patientId: `patient-${n}`,
  firstName: 'Ada',
  lastName: 'Lovelace',
  dateOfBirth: '1815-12-10',
});

describe('publisher', () => {
  let dir: string;
  let transport: Transport;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-publisher-'));
    transport = createEmbeddedTransport({ path: join(dir, 'keel.db') });
    await transport.ensureTopics([PatientEvents]);
  });
  afterEach(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const totalStored = async () => {
    const offsets = await transport.offsets(PatientEvents.name);
    return offsets.reduce((sum, p) => sum + Number(p.latest - p.earliest), 0);
  };

  it('fills the envelope, picks the topic from the catalog and the partition from the key', async () => {
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:test' });
    const receipt = await publisher.publish(PatientCreated, patient(7), {
      tenantId: 'hospital-456',
      correlationId: 'request-789',
    });
    expect(receipt.topic).toBe('healthcare.patients.events');
    expect(receipt.partition).toBe(partitionForKey('patient-7', 12));
    const [record] = await transport.read(receipt.topic, receipt.partition, receipt.offset, 1);
    const event = fromRecord(record!);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: receipt.id,
      type: 'healthcare.patient.created',
      source: 'urn:keel:test',
      subject: 'patient-7',
      tenantid: 'hospital-456',
      correlationid: 'request-789',
      partitionkey: 'patient-7',
      datacontenttype: 'application/json',
      data: patient(7),
    });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(event.time!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('rejects data that breaks the schema, naming the field, and writes nothing', async () => {
    const metrics = createMetrics();
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:test', metrics });
    const error = await publisher
      .publish(PatientCreated, { ...patient(1), dateOfBirth: 'yesterday' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toContain('data.dateOfBirth');
    expect(await totalStored()).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('keel_event_publish_errors_total')).toMatch(
      /type="healthcare.patient.created",reason="KEEL_VALIDATION"} 1/,
    );
  });

  it('writes a batch all-or-nothing and names the index of the bad event', async () => {
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:test' });
    const good = await publisher.publish(PatientCreated, patient(1));
    const [record] = await transport.read(good.topic, good.partition, good.offset, 1);
    const template = fromRecord(record!);
    const { partitionkey: _, ...keyless } = template;
    const batch = [0, 1, 2].map((n) => ({ ...keyless, id: `e-${n}`, data: patient(n + 10) }));
    batch[2] = { ...batch[2]!, data: { patientId: 'p' } as never };
    const error = await publisher.publishEvents(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(batchIndexOf(error)).toBe(2);
    expect((error as ValidationError).issues[0]!.path).toMatch(/^\[2\]\.data\./);
    expect(await totalStored()).toBe(1);

    const unknown = await publisher
      .publishEvents([batch[0]!, { ...batch[1]!, type: 'healthcare.unknown' }])
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownEventTypeError);
    expect(batchIndexOf(unknown)).toBe(1);

    const receipts = await publisher.publishEvents(batch.slice(0, 2));
    expect(receipts.map((r) => r.id)).toEqual(['e-0', 'e-1']);
    expect(receipts.map((r) => r.partition)).toEqual([
      partitionForKey('patient-10', 12),
      partitionForKey('patient-11', 12),
    ]);
    expect(await totalStored()).toBe(3);
  });

  it('publishes events a binding decoded, checking their data only once more', async () => {
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:test' });
    const body = JSON.stringify(
      [0, 1].map((n) => ({
        specversion: '1.0',
        id: `d-${n}`,
        source: 'urn:keel:test',
        type: PatientCreated.type,
        data: patient(n + 20),
      })),
    );
    const decoded = decodeHttp({ 'content-type': 'application/cloudevents-batch+json' }, body);
    const receipts = await publisher.publishDecoded(decoded as DecodedCloudEvent[]);
    expect(receipts.map((r) => r.id)).toEqual(['d-0', 'd-1']);
    expect(receipts.map((r) => r.partition)).toEqual([
      partitionForKey('patient-20', 12),
      partitionForKey('patient-21', 12),
    ]);
    const bad = [{ ...decoded[0]!, id: 'd-2', data: { patientId: 'p' } }] as DecodedCloudEvent[];
    const error = await publisher.publishDecoded(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]!.path).toMatch(/^data\./);
    expect(await totalStored()).toBe(2);
  });

  it('publishes many typed events at once, all or nothing', async () => {
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:test' });
    const bad = await publisher
      .publishMany(PatientCreated, [patient(1), { ...patient(2), dateOfBirth: 'soon' }])
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(batchIndexOf(bad)).toBe(1);
    expect((bad as ValidationError).issues[0]!.path).toBe('[1].data.dateOfBirth');
    expect(await totalStored()).toBe(0);

    const receipts = await publisher.publishMany(PatientCreated, [patient(1), patient(2), patient(3)], {
      tenantId: 'hospital-1',
    });
    expect(new Set(receipts.map((r) => r.id)).size).toBe(3);
    expect(receipts.map((r) => r.partition)).toEqual(
      [1, 2, 3].map((n) => partitionForKey(`patient-${n}`, 12)),
    );
    const [record] = await transport.read(receipts[2]!.topic, receipts[2]!.partition, receipts[2]!.offset, 1);
    expect(fromRecord(record!)).toMatchObject({ tenantid: 'hospital-1', data: patient(3) });
  });

  it('refuses an event over the size limit', async () => {
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:test', maxEventBytes: 2048 });
    const error = await publisher
      .publish(PatientCreated, { ...patient(1), lastName: 'x'.repeat(4096) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect((error as EventTooLargeError).limit).toBe(2048);
    expect(await totalStored()).toBe(0);
  });

  it('counts published events and their latency in the metrics', async () => {
    const metrics = createMetrics();
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:test', metrics });
    await Promise.all([1, 2, 3].map((n) => publisher.publish(PatientCreated, patient(n))));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /keel_event_published_total\{type="healthcare.patient.created",topic="healthcare.patients.events"} 3/,
    );
    expect(text).toMatch(/keel_event_publish_duration_seconds_count\{topic="healthcare.patients.events"} 3/);
  });
});
