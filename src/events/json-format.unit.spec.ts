import { describe, expect, it } from 'vitest';
import type { CloudEvent } from './cloud-event.ts';
import {
  decodeBatch,
  decodeStructured,
  encodeBatch,
  encodeStructured,
  toStructuredObject,
} from './json-format.ts';
import { issuesOf, pathsAndRules } from './test-support/issues.ts';

const base: CloudEvent = {
  specversion: '1.0',
  id: 'e-1',
  source: '/orders',
  type: 'com.example.order.placed',
  time: '2018-04-05T17:31:00Z',
};

describe('structured JSON format', () => {
  it('round-trips JSON data as a JSON value, never as an encoded string', () => {
    const event = {
      ...base,
      datacontenttype: 'application/json',
      data: { total: 12, items: ['a'] },
      tenantid: 'acme',
    };
    const text = encodeStructured(event);
    expect(JSON.parse(text).data).toEqual({ total: 12, items: ['a'] });
    expect(decodeStructured(text)).toEqual(event);
  });

  it('keeps a JSON string as a string, without parsing it again', () => {
    const decoded = decodeStructured(
      JSON.stringify({ ...base, datacontenttype: 'application/json', data: '{"a":1}' }),
    );
    expect(decoded.data).toBe('{"a":1}');
  });

  it('treats data as JSON when datacontenttype is absent', () => {
    const decoded = decodeStructured(JSON.stringify({ ...base, data: [1, 2] }));
    expect(decoded.data).toEqual([1, 2]);
  });

  it('writes binary data as data_base64 and reads it back as bytes', () => {
    const event = {
      ...base,
      datacontenttype: 'application/octet-stream',
      data: new Uint8Array([0, 77, 97, 255]),
    };
    const json = toStructuredObject(event);
    expect(json.data_base64).toBe('AE1h/w==');
    expect('data' in json).toBe(false);
    const decoded = decodeStructured(encodeStructured(event));
    expect(decoded.data).toEqual(new Uint8Array([0, 77, 97, 255]));
  });

  it('encodes a Buffer view by its own bytes only', () => {
    const pooled = Buffer.from('xxMaxx').subarray(2, 4);
    expect(toStructuredObject({ ...base, data: pooled }).data_base64).toBe('TWE=');
  });

  it('writes text data of a non-JSON type as a string', () => {
    const event = { ...base, datacontenttype: 'text/plain', data: 'Simple text' };
    expect(JSON.parse(encodeStructured(event)).data).toBe('Simple text');
    expect(decodeStructured(encodeStructured(event))).toEqual(event);
  });

  it('refuses to encode non-string data of a non-JSON type', () => {
    const issues = issuesOf(() => encodeStructured({ ...base, datacontenttype: 'text/xml', data: { a: 1 } }));
    expect(pathsAndRules(issues)).toEqual(['data invalid_type']);
  });

  it('validates before encoding', () => {
    expect(pathsAndRules(issuesOf(() => encodeStructured({ ...base, time: 'soon' })))).toEqual([
      'time invalid_format',
    ]);
  });

  it('accepts UTF-8 bytes as input', () => {
    expect(
      decodeStructured(new TextEncoder().encode(JSON.stringify({ ...base, subject: 'Zoë' }))).subject,
    ).toBe('Zoë');
  });

  it('reports malformed JSON with the malformed_json rule', () => {
    expect(pathsAndRules(issuesOf(() => decodeStructured('{"specversion": "1.0",')))).toEqual([
      ' malformed_json',
    ]);
    expect(pathsAndRules(issuesOf(() => decodeStructured(new Uint8Array([0x7b, 0xff, 0x7d]))))).toEqual([
      ' malformed_json',
    ]);
  });

  it('rejects a JSON value that is not an object', () => {
    expect(pathsAndRules(issuesOf(() => decodeStructured('[]')))).toEqual([' invalid_type']);
  });
});

describe('JSON batch format', () => {
  it('round-trips a batch, the empty one included', () => {
    const events = [base, { ...base, id: 'e-2', datacontenttype: 'text/plain', data: 'hi' }];
    expect(decodeBatch(encodeBatch(events))).toEqual(events);
    expect(encodeBatch([])).toBe('[]');
    expect(decodeBatch('[]')).toEqual([]);
  });

  it('requires an array', () => {
    expect(pathsAndRules(issuesOf(() => decodeBatch(JSON.stringify(base))))).toEqual([' invalid_type']);
  });

  it('names the index of every bad element', () => {
    const batch = [base, { ...base, time: 'lunchtime' }, 'not an object', { ...base, id: undefined }];
    expect(pathsAndRules(issuesOf(() => decodeBatch(JSON.stringify(batch))))).toEqual([
      '[1].time invalid_format',
      '[2] invalid_type',
      '[3].id required',
    ]);
  });

  it('names the index when encoding a bad event', () => {
    expect(pathsAndRules(issuesOf(() => encodeBatch([base, { ...base, source: '' }])))).toEqual([
      '[1].source too_small',
    ]);
  });

  it('reports malformed JSON', () => {
    expect(pathsAndRules(issuesOf(() => decodeBatch('[{]')))).toEqual([' malformed_json']);
  });
});
