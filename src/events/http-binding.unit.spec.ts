import { describe, expect, it } from 'vitest';
import type { CloudEvent } from './cloud-event.ts';
import {
  decodeHttp,
  encodeHttpBatch,
  encodeHttpBinary,
  encodeHttpStructured,
  readHttp,
} from './http-binding.ts';
import { readFeature, type Step, tableEntries } from './test-support/gherkin.ts';
import { issuesOf, pathsAndRules } from './test-support/issues.ts';
import { timestampToEpochMs } from './timestamp.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const utf8 = (value: string) => new TextEncoder().encode(value);

const base: CloudEvent = {
  specversion: '1.0',
  id: '1234-1234-1234',
  source: '/mycontext/subcontext',
  type: 'com.example.someevent',
  time: '2018-04-05T03:56:24Z',
};

// The HTTP request text of a scenario: request line, headers, blank line, body.
function parseRequest(request: string): { headers: Record<string, string>; body: string } {
  const lines = request.split('\n');
  const blank = lines.indexOf('');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1, blank < 0 ? undefined : blank)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return { headers, body: blank < 0 ? '' : lines.slice(blank + 1).join('\n') };
}

function stepText(step: Step): string {
  return step.text.replace(/:$/, '');
}

describe('HTTP protocol binding conformance (features/http-protocol-binding.feature)', () => {
  const scenarios = readFeature(
    new URL('../../test/fixtures/cloudevents/features/http-protocol-binding.feature', import.meta.url),
  );

  it('reads every scenario, outlines expanded', () => {
    expect(scenarios.map((s) => s.name)).toEqual([
      'Binary content mode (application/json)',
      'Binary content mode (application/json; charset=utf-8)',
      'Structured content mode (application/cloudevents+json)',
      'Structured content mode (application/cloudevents+json; charset=utf-8)',
    ]);
  });

  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
    let request: { headers: Record<string, string>; body: string } | undefined;
    let events: CloudEvent[] = [];
    for (const step of scenario.steps) {
      switch (stepText(step)) {
        case 'an HTTP request':
          request = parseRequest(step.docString ?? '');
          break;
        case 'parsed as HTTP request':
          events = decodeHttp(request?.headers ?? {}, utf8(request?.body ?? ''));
          expect(events).toHaveLength(1);
          break;
        case 'the attributes are':
          for (const [key, value] of tableEntries(step.table)) {
            if (key === 'time')
              expect(timestampToEpochMs(String(events[0]?.time))).toBe(timestampToEpochMs(value));
            else expect(events[0]?.[key], key).toBe(value);
          }
          break;
        case 'the data is equal to the following JSON':
          expect(events[0]?.data).toEqual(JSON.parse(step.docString ?? ''));
          break;
        default:
          throw new Error(`no implementation for step "${step.text}"`);
      }
    }
  });
});

describe('decodeHttp', () => {
  describe('binary mode', () => {
    it('reads ce- headers in any case and the body by its content type', () => {
      const [event] = decodeHttp(
        {
          'CE-SpecVersion': '1.0',
          'Ce-Id': 'a',
          'ce-source': '/s',
          'ce-type': 't',
          'ce-tenantid': 'acme',
          'Content-Type': 'application/vnd.example+json',
        },
        utf8('{"x":[1,2]}'),
      );
      expect(event).toEqual({
        specversion: '1.0',
        id: 'a',
        source: '/s',
        type: 't',
        tenantid: 'acme',
        datacontenttype: 'application/vnd.example+json',
        data: { x: [1, 2] },
      });
    });

    const headers = { 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/s', 'ce-type': 't' };

    it('percent-decodes header values into UTF-8 and unquotes quoted strings', () => {
      const [event] = decodeHttp(
        { ...headers, 'ce-subject': 'Euro%20%E2%82%AC%20%f0%9f%98%80', 'ce-note': '"say \\"hi\\" 100%25"' },
        '',
      );
      expect(event?.subject).toBe('Euro € 😀');
      expect(event?.note).toBe('say "hi" 100%');
    });

    it('rejects invalid percent-encoding and invalid UTF-8 such as an overlong space', () => {
      const issues = issuesOf(() =>
        decodeHttp({ ...headers, 'ce-subject': '%C0%A0', 'ce-note': '100%', 'ce-other': '%zz' }, ''),
      );
      expect(pathsAndRules(issues)).toEqual([
        'subject invalid_percent_encoding',
        'note invalid_percent_encoding',
        'other invalid_percent_encoding',
      ]);
    });

    it('keeps non-JSON bodies as text (text/*) or bytes', () => {
      const [textEvent] = decodeHttp(
        { ...headers, 'content-type': 'text/plain; charset=utf-8' },
        utf8('héllo'),
      );
      expect(textEvent?.data).toBe('héllo');
      const [bytesEvent] = decodeHttp({ ...headers, 'content-type': 'application/octet-stream' }, utf8('AB'));
      expect(bytesEvent?.data).toEqual(new Uint8Array([65, 66]));
      const [stringEvent] = decodeHttp({ ...headers, 'content-type': 'application/xml' }, '<a/>');
      expect(stringEvent?.data).toBe('<a/>');
    });

    it('has no data when the body is empty', () => {
      const [event] = decodeHttp({ ...headers, 'content-type': 'application/json' }, new Uint8Array(0));
      expect(event).toEqual({
        specversion: '1.0',
        id: 'a',
        source: '/s',
        type: 't',
        datacontenttype: 'application/json',
      });
      expect(event && 'data' in event).toBe(false);
    });

    it('reports malformed JSON data together with bad attributes', () => {
      const issues = issuesOf(() =>
        decodeHttp({ ...headers, 'ce-time': 'noon', 'content-type': 'application/json' }, '{"a":'),
      );
      expect(pathsAndRules(issues)).toEqual(['data malformed_json', 'time invalid_format']);
    });

    it('lists every missing required attribute when headers are missing', () => {
      expect(pathsAndRules(issuesOf(() => decodeHttp({ 'ce-id': 'a' }, '')))).toEqual([
        'specversion required',
        'source required',
        'type required',
      ]);
      expect(pathsAndRules(issuesOf(() => decodeHttp({}, 'hello')))).toHaveLength(4);
    });

    it('refuses ce-datacontenttype, which binary mode must not send', () => {
      const issues = issuesOf(() => decodeHttp({ ...headers, 'ce-datacontenttype': 'text/plain' }, ''));
      expect(pathsAndRules(issues)).toEqual(['datacontenttype forbidden_header']);
    });

    it('refuses a repeated CloudEvents header', () => {
      const issues = issuesOf(() => decodeHttp({ ...headers, 'ce-id': ['a', 'b'] }, ''));
      expect(pathsAndRules(issues)).toEqual(['ce-id duplicate_header']);
    });

    it('ignores unrelated headers, repeated or not', () => {
      const [event] = decodeHttp(
        { ...headers, 'set-cookie': ['a=1', 'b=2'], host: 'example.com', x: undefined },
        '',
      );
      expect(event).toEqual({ specversion: '1.0', id: 'a', source: '/s', type: 't' });
    });
  });

  describe('structured and batched modes', () => {
    it('reads a structured event whatever the charset parameter and case', () => {
      const body = JSON.stringify({ ...base, data: { a: 1 } });
      const [event] = decodeHttp({ 'content-type': 'Application/CloudEvents+JSON; charset=UTF-8' }, body);
      expect(event).toEqual({ ...base, data: { a: 1 } });
    });

    it('prefers the body over ce- headers in structured mode', () => {
      const [event] = decodeHttp(
        { 'content-type': 'application/cloudevents+json', 'ce-id': 'from-header' },
        JSON.stringify(base),
      );
      expect(event?.id).toBe(base.id);
    });

    it('reads a batch, with indexes in issue paths', () => {
      const headers = { 'content-type': 'application/cloudevents-batch+json' };
      expect(decodeHttp(headers, JSON.stringify([base, { ...base, id: '2' }]))).toHaveLength(2);
      expect(decodeHttp(headers, '[]')).toEqual([]);
      const issues = issuesOf(() => decodeHttp(headers, JSON.stringify([base, { ...base, time: 'x' }])));
      expect(pathsAndRules(issues)).toEqual(['[1].time invalid_format']);
    });

    it('refuses CloudEvents formats other than JSON', () => {
      expect(
        pathsAndRules(issuesOf(() => decodeHttp({ 'content-type': 'application/cloudevents+avro' }, 'x'))),
      ).toEqual([' unsupported_format']);
      expect(
        pathsAndRules(
          issuesOf(() => decodeHttp({ 'content-type': 'application/cloudevents-batch+xml' }, 'x')),
        ),
      ).toEqual([' unsupported_format']);
    });

    it('reports malformed JSON in structured mode', () => {
      const issues = issuesOf(() => decodeHttp({ 'content-type': 'application/cloudevents+json' }, '{'));
      expect(pathsAndRules(issues)).toEqual([' malformed_json']);
    });
  });

  describe('application/json convenience', () => {
    const headers = { 'content-type': 'application/json' };

    it('reads an object with specversion as a structured event', () => {
      expect(decodeHttp(headers, JSON.stringify(base))).toEqual([base]);
    });

    it('reads an array as a batch', () => {
      expect(decodeHttp(headers, JSON.stringify([base, base]))).toEqual([base, base]);
    });

    it('falls back to binary mode for other JSON, which then lacks its attributes', () => {
      const issues = issuesOf(() => decodeHttp(headers, '{"message":"hi"}'));
      expect(pathsAndRules(issues)).toEqual([
        'specversion required',
        'id required',
        'source required',
        'type required',
      ]);
    });

    it('leaves binary mode alone when ce- headers are present', () => {
      const [event] = decodeHttp(
        { ...headers, 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/s', 'ce-type': 't' },
        JSON.stringify(base),
      );
      expect(event?.id).toBe('a');
      expect(event?.data).toEqual(base);
    });
  });
});

describe('encodeHttpBinary', () => {
  it('maps attributes to percent-encoded ce- headers and data to the body', () => {
    const message = encodeHttpBinary({
      ...base,
      subject: 'Euro € "q" 100%',
      datacontenttype: 'application/json',
      data: { message: 'Hello World!' },
      extinteger: 10,
      extboolean: true,
    });
    expect(message.headers).toEqual({
      'ce-specversion': '1.0',
      'ce-id': '1234-1234-1234',
      'ce-source': '/mycontext/subcontext',
      'ce-type': 'com.example.someevent',
      'ce-time': '2018-04-05T03:56:24Z',
      'ce-subject': 'Euro%20%E2%82%AC%20%22q%22%20100%25',
      'ce-extinteger': '10',
      'ce-extboolean': 'true',
      'content-type': 'application/json',
    });
    expect(text(message.body)).toBe('{"message":"Hello World!"}');
  });

  it('declares application/json for data without a datacontenttype, as the JSON format implies', () => {
    const message = encodeHttpBinary({ ...base, data: "I'm just a string" });
    expect(message.headers['content-type']).toBe('application/json');
    expect(text(message.body)).toBe('"I\'m just a string"');
  });

  it('sends bytes and text as they are, and no body without data', () => {
    expect(
      encodeHttpBinary({ ...base, datacontenttype: 'image/png', data: new Uint8Array([1, 2]) }).body,
    ).toEqual(new Uint8Array([1, 2]));
    expect(text(encodeHttpBinary({ ...base, datacontenttype: 'text/plain', data: 'hé' }).body)).toBe('hé');
    const empty = encodeHttpBinary(base);
    expect(empty.body).toHaveLength(0);
    expect(empty.headers['content-type']).toBeUndefined();
  });

  it('round-trips through decodeHttp', () => {
    const events: CloudEvent[] = [
      {
        ...base,
        subject: 'Zoë "quoted" 50% off',
        tenantid: 'acme',
        datacontenttype: 'application/json',
        data: { a: [1] },
      },
      { ...base, datacontenttype: 'text/plain', data: 'Simple text' },
      { ...base, datacontenttype: 'application/octet-stream', data: new Uint8Array([0, 255]) },
      { ...base, datacontenttype: 'application/json', data: null },
      base,
    ];
    for (const event of events) {
      const message = encodeHttpBinary(event);
      expect(decodeHttp(message.headers, message.body)).toEqual([event]);
    }
  });

  it('validates before encoding', () => {
    expect(pathsAndRules(issuesOf(() => encodeHttpBinary({ ...base, source: '' })))).toEqual([
      'source too_small',
    ]);
  });
});

describe('encodeHttpStructured and encodeHttpBatch', () => {
  it('write the JSON formats with their media types and round-trip', () => {
    const event = { ...base, datacontenttype: 'application/octet-stream', data: new Uint8Array([9]) };
    const structured = encodeHttpStructured(event);
    expect(structured.headers).toEqual({ 'content-type': 'application/cloudevents+json; charset=utf-8' });
    expect(JSON.parse(text(structured.body)).data_base64).toBe('CQ==');
    expect(decodeHttp(structured.headers, structured.body)).toEqual([event]);

    const batch = encodeHttpBatch([event, base]);
    expect(batch.headers).toEqual({ 'content-type': 'application/cloudevents-batch+json; charset=utf-8' });
    expect(decodeHttp(batch.headers, batch.body)).toEqual([event, base]);
  });
});

describe('readHttp: the mode from the headers once, the events on demand', () => {
  const structured = JSON.stringify(base);
  it.each([
    [{ 'content-type': 'application/cloudevents+json' }, structured, 'structured'],
    [{ 'content-type': 'application/cloudevents-batch+json' }, `[${structured}]`, 'batch'],
    [{ 'Content-Type': 'text/plain', 'CE-SpecVersion': '1.0' }, 'x', 'binary'],
    [{ 'content-type': 'application/json' }, `  \n[${structured}]`, 'batch'],
    [{ 'content-type': 'application/json' }, structured, 'structured'],
    [{ 'content-type': 'text/plain' }, 'hello', undefined],
    [{}, '', undefined],
  ] as const)('%o %s reads as %s', (headers, body, mode) => {
    expect(readHttp(headers, utf8(body)).mode).toBe(mode);
  });

  it('decodes what decodeHttp decodes, and throws the same issues', () => {
    const headers = { 'content-type': 'application/cloudevents-batch+json' };
    expect(readHttp(headers, `[${structured}]`).events()).toEqual(decodeHttp(headers, `[${structured}]`));
    const unsupported = readHttp({ 'content-type': 'application/cloudevents-batch+xml' }, '<x/>');
    expect(unsupported.mode).toBe('batch');
    expect(pathsAndRules(issuesOf(() => unsupported.events()))).toEqual([' unsupported_format']);
  });
});
