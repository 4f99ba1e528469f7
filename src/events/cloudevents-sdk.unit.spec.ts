import { HTTP, Kafka, type KafkaMessage, CloudEvent as SdkCloudEvent } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { PatientCreated } from '../../examples/catalog.ts';
import type { CloudEvent } from './cloud-event.ts';
import { createEvent } from './create-event.ts';
import { decodeHttp, encodeHttpBinary, encodeHttpStructured } from './http-binding.ts';
import { fromRecord, type KafkaRecord, type KafkaRecordInput, toRecord } from './kafka-binding.ts';

// Interoperability with the official CloudEvents JavaScript SDK (cloudevents v10).

const patient = { patientId: 'p-42', firstName: 'Mary', lastName: 'Seacole', dateOfBirth: '1805-11-23' };

function keelEvent(): CloudEvent {
  return createEvent(PatientCreated, patient, {
    source: '/services/patients',
    tenantId: 'acme',
    correlationId: 'corr-7',
    causationId: 'cmd-7',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  });
}

const sdkEvent = () =>
  new SdkCloudEvent({
    id: 'sdk-1',
    source: 'urn:example:sdk',
    type: 'com.example.sdk.sent',
    time: '2024-05-06T07:08:09.123Z',
    subject: 'order-9',
    datacontenttype: 'application/json',
    dataschema: 'https://example.com/schemas/order',
    data: { order: 9, lines: [{ sku: 'a', qty: 2 }] },
    tenantid: 'acme',
    partitionkey: 'order-9',
  });

// What a Keel consumer must see for sdkEvent(): the same attributes, nothing added.
const expectedFromSdk: CloudEvent = {
  specversion: '1.0',
  id: 'sdk-1',
  source: 'urn:example:sdk',
  type: 'com.example.sdk.sent',
  time: '2024-05-06T07:08:09.123Z',
  subject: 'order-9',
  datacontenttype: 'application/json',
  dataschema: 'https://example.com/schemas/order',
  data: { order: 9, lines: [{ sku: 'a', qty: 2 }] },
  tenantid: 'acme',
  partitionkey: 'order-9',
};

// The SDK decodes without validating (strict = false): validate explicitly, and rebuild the event
// strictly so its extension-name checks run too.
function expectSdkAccepts(decoded: unknown, original: CloudEvent): void {
  expect(decoded).toBeInstanceOf(SdkCloudEvent);
  const event = decoded as SdkCloudEvent<unknown>;
  expect(event.validate()).toBe(true);
  expect(() => new SdkCloudEvent({ ...event }, true)).not.toThrow();
  expect(event).toMatchObject({
    specversion: '1.0',
    id: original.id,
    source: original.source,
    type: original.type,
    subject: original.subject,
    datacontenttype: 'application/json',
    dataschema: 'urn:keel:schema:healthcare.patient.created:1',
    tenantid: 'acme',
    correlationid: 'corr-7',
    causationid: 'cmd-7',
    partitionkey: 'p-42',
    traceparent: original.traceparent,
    data: patient,
  });
  expect(Date.parse(event.time ?? '')).toBe(Date.parse(original.time ?? ''));
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

// The SDK leaves serializing the value to the Kafka client (its binary value is the data object):
// do what a producer would before handing it over, and drop headers the SDK sets to undefined.
function recordFromSdk(message: KafkaMessage<unknown>): KafkaRecordInput {
  const { value } = message;
  const serialized =
    typeof value === 'string' || value instanceof Uint8Array ? value : Buffer.from(JSON.stringify(value));
  const headers = Object.fromEntries(
    Object.entries(message.headers).flatMap(([name, header]) =>
      header === undefined ? [] : [[name, String(header)] as const],
    ),
  );
  return { key: message.key ?? null, value: serialized, headers };
}

// A Keel record as a Kafka client hands it to the SDK: the value as a Buffer. The SDK types only keyed
// messages, which Keel's records of events with a partitionkey are.
function sdkMessage(record: KafkaRecord): KafkaMessage<unknown> {
  if (record.key === null) throw new Error('expected a keyed record');
  const value = record.value === null ? undefined : Buffer.from(record.value);
  return { key: record.key, value, headers: record.headers, body: value };
}

describe('Keel events read by the CloudEvents SDK', () => {
  it('HTTP structured mode passes HTTP.toEvent and the SDK validation', () => {
    const event = keelEvent();
    const message = encodeHttpStructured(event);
    expectSdkAccepts(HTTP.toEvent({ headers: message.headers, body: text(message.body) }), event);
  });

  it('HTTP binary mode passes HTTP.toEvent and the SDK validation', () => {
    const event = keelEvent();
    const message = encodeHttpBinary(event);
    expectSdkAccepts(HTTP.toEvent({ headers: message.headers, body: text(message.body) }), event);
  });

  it('Kafka binary mode passes Kafka.toEvent, key included', () => {
    const event = keelEvent();
    const record = toRecord(event);
    expectSdkAccepts(Kafka.toEvent(sdkMessage(record)), event);
  });

  it('Kafka structured mode passes Kafka.toEvent', () => {
    const event = keelEvent();
    const record = toRecord(event, { mode: 'structured' });
    expectSdkAccepts(Kafka.toEvent(sdkMessage(record)), event);
  });
});

describe('SDK events read by Keel', () => {
  it('HTTP.binary decodes with decodeHttp', () => {
    const message = HTTP.binary(sdkEvent());
    expect(decodeHttp(message.headers, message.body as string)).toEqual([expectedFromSdk]);
  });

  it('HTTP.structured decodes with decodeHttp', () => {
    const message = HTTP.structured(sdkEvent());
    expect(decodeHttp(message.headers, message.body as string)).toEqual([expectedFromSdk]);
  });

  it('HTTP.binary with bytes data decodes to the same bytes', () => {
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const message = HTTP.binary(
      new SdkCloudEvent({
        id: 'b',
        source: '/s',
        type: 't',
        datacontenttype: 'application/octet-stream',
        data: bytes,
      }),
    );
    const [event] = decodeHttp(message.headers, message.body as Uint8Array);
    expect(event?.data).toEqual(bytes);
  });

  it('Kafka.binary decodes with fromRecord', () => {
    expect(fromRecord(recordFromSdk(Kafka.binary(sdkEvent())))).toEqual(expectedFromSdk);
  });

  it('Kafka.structured decodes with fromRecord', () => {
    expect(fromRecord(recordFromSdk(Kafka.structured(sdkEvent())))).toEqual(expectedFromSdk);
  });
});
