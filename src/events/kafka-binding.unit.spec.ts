import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../transport/transport.ts';
import type { CloudEvent } from './cloud-event.ts';
import { fromRecord, toRecord } from './kafka-binding.ts';
import { readFeature, tableEntries } from './test-support/gherkin.ts';
import { issuesOf, pathsAndRules } from './test-support/issues.ts';
import { timestampToEpochMs } from './timestamp.ts';

const text = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));
const utf8 = (value: string) => new TextEncoder().encode(value);

const base: CloudEvent = {
  specversion: '1.0',
  id: '1234-1234-1234',
  source: '/mycontext/subcontext',
  type: 'com.example.someevent',
  time: '2018-04-05T03:56:24Z',
};

describe('Kafka protocol binding conformance (features/kafka-protocol-binding.feature)', () => {
  const scenarios = readFeature(
    new URL('../../test/fixtures/cloudevents/features/kafka-protocol-binding.feature', import.meta.url),
  );

  it('reads every scenario, outlines expanded', () => {
    expect(scenarios.map((s) => s.name)).toEqual([
      'Binary content mode',
      'Structured content mode (application/cloudevents+json)',
      'Structured content mode (application/cloudevents+json; charset=utf-8)',
    ]);
  });

  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
    let payload = '';
    let headers: Record<string, string> = {};
    let event: CloudEvent | undefined;
    for (const step of scenario.steps) {
      switch (step.text.replace(/:$/, '')) {
        case 'a Kafka message with payload':
          payload = step.docString ?? '';
          break;
        case 'Kafka headers':
          headers = Object.fromEntries(tableEntries(step.table));
          break;
        case 'parsed as Kafka message':
          event = fromRecord({ key: null, value: utf8(payload), headers });
          break;
        case 'the attributes are':
          for (const [key, value] of tableEntries(step.table)) {
            if (key === 'time')
              expect(timestampToEpochMs(String(event?.time))).toBe(timestampToEpochMs(value));
            else expect(event?.[key], key).toBe(value);
          }
          break;
        case 'the data is equal to the following JSON':
          expect(event?.data).toEqual(JSON.parse(step.docString ?? ''));
          break;
        default:
          throw new Error(`no implementation for step "${step.text}"`);
      }
    }
  });
});

describe('toRecord', () => {
  const event: CloudEvent = {
    ...base,
    datacontenttype: 'application/json',
    data: { message: 'Hello World!' },
    partitionkey: 'patient-7',
    tenantid: 'acme',
    extinteger: 10,
  };

  it('defaults to binary mode: ce_ headers, content-type, data as value, partitionkey as key', () => {
    const record = toRecord(event);
    expect(record.key).toBe('patient-7');
    expect(record.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: '1234-1234-1234',
      ce_source: '/mycontext/subcontext',
      ce_type: 'com.example.someevent',
      ce_time: '2018-04-05T03:56:24Z',
      ce_partitionkey: 'patient-7',
      ce_tenantid: 'acme',
      ce_extinteger: '10',
      'content-type': 'application/json',
    });
    expect(text(record.value)).toBe('{"message":"Hello World!"}');
  });

  it('has the transport record shape', () => {
    const record: OutgoingRecord = toRecord(event);
    expect(Object.keys(record).sort()).toEqual(['headers', 'key', 'value']);
  });

  it('writes a null key without a partitionkey and a null value (a tombstone) without data', () => {
    const record = toRecord(base);
    expect(record.key).toBeNull();
    expect(record.value).toBeNull();
    expect(record.headers['content-type']).toBeUndefined();
  });

  it('writes an explicit null payload as JSON null, not as a tombstone', () => {
    expect(text(toRecord({ ...base, data: null }).value)).toBe('null');
  });

  it('writes structured mode on request', () => {
    const record = toRecord(event, { mode: 'structured' });
    expect(record.key).toBe('patient-7');
    expect(record.headers).toEqual({ 'content-type': 'application/cloudevents+json; charset=utf-8' });
    expect(JSON.parse(text(record.value) ?? '')).toEqual(event);
  });

  it('carries integer and boolean extensions as their canonical strings in binary mode', () => {
    const decoded = fromRecord(toRecord({ ...base, extinteger: 10, extboolean: true }));
    expect(decoded.extinteger).toBe('10');
    expect(decoded.extboolean).toBe('true');
    expect(fromRecord(toRecord({ ...base, extinteger: 10 }, { mode: 'structured' })).extinteger).toBe(10);
  });

  it('validates before encoding', () => {
    expect(pathsAndRules(issuesOf(() => toRecord({ ...base, id: '' })))).toEqual(['id too_small']);
  });

  it('round-trips through fromRecord in both modes', () => {
    const { extinteger: _integer, ...stringExtensions } = event;
    const events: CloudEvent[] = [
      stringExtensions,
      { ...base, datacontenttype: 'text/plain', data: 'Zoë' },
      { ...base, datacontenttype: 'application/octet-stream', data: new Uint8Array([1, 2, 3]) },
      { ...base, data: null, datacontenttype: 'application/json' },
      base,
    ];
    for (const original of events) {
      expect(fromRecord(toRecord(original))).toEqual(original);
      expect(fromRecord(toRecord(original, { mode: 'structured' }))).toEqual(original);
    }
  });
});

describe('fromRecord', () => {
  const headers = { ce_specversion: '1.0', ce_id: 'a', ce_source: '/s', ce_type: 't' };

  it('does not invent a partitionkey from the record key', () => {
    const event = fromRecord({ key: 'k-1', value: null, headers });
    expect(event).toEqual({ specversion: '1.0', id: 'a', source: '/s', type: 't' });
  });

  it('reads header values given as bytes, as Kafka clients return them', () => {
    const event = fromRecord({
      key: null,
      value: utf8('{"a":1}'),
      headers: {
        ...headers,
        ce_subject: utf8('Zoë'),
        'content-type': utf8('application/json'),
        ce_x: undefined,
      },
    });
    expect(event.subject).toBe('Zoë');
    expect(event.data).toEqual({ a: 1 });
  });

  it('takes datacontenttype from content-type, falling back to ce_datacontenttype', () => {
    const both = fromRecord({
      value: 'hi',
      headers: { ...headers, 'content-type': 'text/plain', ce_datacontenttype: 'text/html' },
    });
    expect(both.datacontenttype).toBe('text/plain');
    const only = fromRecord({
      value: '"hi"',
      headers: { ...headers, ce_datacontenttype: 'application/json' },
    });
    expect(only).toEqual({
      specversion: '1.0',
      id: 'a',
      source: '/s',
      type: 't',
      datacontenttype: 'application/json',
      data: 'hi',
    });
  });

  it('detects structured mode case-insensitively', () => {
    const event = fromRecord({
      value: JSON.stringify({ ...base, data: 1 }),
      headers: { 'Content-Type': 'APPLICATION/CLOUDEVENTS+JSON' },
    });
    expect(event).toEqual({ ...base, data: 1 });
  });

  it('refuses other structured formats and batches, which the Kafka binding does not define', () => {
    for (const contentType of ['application/cloudevents+avro', 'application/cloudevents-batch+json']) {
      const issues = issuesOf(() => fromRecord({ value: '[]', headers: { 'content-type': contentType } }));
      expect(pathsAndRules(issues)).toEqual([' unsupported_format']);
    }
  });

  it('refuses a structured record without a value', () => {
    const issues = issuesOf(() =>
      fromRecord({ value: null, headers: { 'content-type': 'application/cloudevents+json' } }),
    );
    expect(pathsAndRules(issues)).toEqual([' required']);
  });

  it('lists every problem of a binary record', () => {
    const issues = issuesOf(() =>
      fromRecord({
        value: utf8('{oops'),
        headers: {
          ce_id: 'a',
          ce_time: 'later',
          ce_bad: new Uint8Array([0xff]),
          'content-type': 'application/json',
        },
      }),
    );
    expect(pathsAndRules(issues)).toEqual([
      'ce_bad invalid_encoding',
      'data malformed_json',
      'specversion required',
      'source required',
      'type required',
      'time invalid_format',
    ]);
  });
});
