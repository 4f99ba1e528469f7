import { describe, expect, it } from 'vitest';
import { parseCloudEvent, safeParseCloudEvent } from './envelope.ts';
import { ValidationError } from './errors.ts';
import { issuesOf, pathsAndRules } from './test-support/issues.ts';

const minimal = { specversion: '1.0', id: 'e-1', source: '/orders', type: 'com.example.order.placed' };

const rulesFor = (attributes: Record<string, unknown>) =>
  pathsAndRules(issuesOf(() => parseCloudEvent({ ...minimal, ...attributes })));

describe('parseCloudEvent', () => {
  it('returns exactly the attributes of a valid event', () => {
    expect(parseCloudEvent(minimal)).toStrictEqual(minimal);
  });

  it('treats null optional attributes and extensions as absent and drops them', () => {
    const event = parseCloudEvent({
      ...minimal,
      time: null,
      subject: null,
      datacontenttype: null,
      dataschema: null,
      tenantid: null,
      data_base64: null,
    });
    expect(Object.keys(event).sort()).toEqual(['id', 'source', 'specversion', 'type']);
  });

  it('keeps an explicit null payload, which the JSON format distinguishes from no data', () => {
    expect(parseCloudEvent({ ...minimal, data: null })).toStrictEqual({ ...minimal, data: null });
    expect('data' in parseCloudEvent(minimal)).toBe(false);
  });

  it('lists every missing required attribute at once', () => {
    expect(pathsAndRules(issuesOf(() => parseCloudEvent({})))).toEqual([
      'specversion required',
      'id required',
      'source required',
      'type required',
    ]);
  });

  it('treats a null required attribute as missing', () => {
    expect(rulesFor({ id: null })).toEqual(['id required']);
  });

  it.each([null, [], 'text', 42, new Uint8Array([1])])('rejects %j, which is not an object', (input) => {
    expect(pathsAndRules(issuesOf(() => parseCloudEvent(input)))).toEqual([' invalid_type']);
  });

  it('prefixes every issue path with the given path', () => {
    const issues = issuesOf(() => parseCloudEvent({ ...minimal, time: 'lunchtime', subject: '' }, '[3]'));
    expect(pathsAndRules(issues)).toEqual(['[3].subject too_small', '[3].time invalid_format']);
    expect(pathsAndRules(issuesOf(() => parseCloudEvent('x', '[0]')))).toEqual(['[0] invalid_type']);
  });

  it('reports every issue of every attribute, not just the first', () => {
    const issues = issuesOf(() =>
      parseCloudEvent({
        specversion: '0.3',
        id: 7,
        source: 'a b',
        type: '',
        Bad: 1,
        data: 1,
        data_base64: 'AA==',
      }),
    );
    expect(pathsAndRules(issues)).toEqual([
      'specversion invalid_value',
      'id invalid_type',
      'source invalid_format',
      'type too_small',
      'Bad invalid_name',
      'data_base64 mutually_exclusive',
    ]);
  });

  it('names the event type on the error when there is one', () => {
    try {
      parseCloudEvent({ ...minimal, time: 'soon' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).eventType).toBe(minimal.type);
      expect((error as ValidationError).message).toContain('time');
    }
  });

  describe('specversion', () => {
    it.each(['0.9', '', '1', 1, '1.0.2'])('rejects %j', (specversion) => {
      expect(rulesFor({ specversion })).toEqual(['specversion invalid_value']);
    });
  });

  describe('id, type and subject', () => {
    it.each(['id', 'type', 'subject'])('%s must be a non-empty string without control characters', (name) => {
      expect(rulesFor({ [name]: '' })).toEqual([`${name} too_small`]);
      expect(rulesFor({ [name]: 25 })).toEqual([`${name} invalid_type`]);
      expect(rulesFor({ [name]: { xyz: 'abc' } })).toEqual([`${name} invalid_type`]);
      expect(rulesFor({ [name]: 'line\nbreak' })).toEqual([`${name} invalid_format`]);
      expect(rulesFor({ [name]: 'lone \uD800 surrogate' })).toEqual([`${name} invalid_format`]);
      expect(rulesFor({ [name]: 'non\uFFFEcharacter' })).toEqual([`${name} invalid_format`]);
      expect(parseCloudEvent({ ...minimal, [name]: 'paired \uD83D\uDE00 Zoë' })[name]).toBe(
        'paired \uD83D\uDE00 Zoë',
      );
    });
  });

  describe('time (RFC 3339)', () => {
    it.each([
      '2018-04-05T17:31:00Z',
      '2018-04-05t17:31:00z',
      '2018-04-05T17:31:00.123456789Z',
      '2018-04-05T18:31:00+01:00',
      '2018-04-05T16:31:00-01:00',
      '2018-04-05T17:31:00-00:00',
      '2024-02-29T00:00:00Z',
      '2016-12-31T23:59:60Z',
    ])('accepts %s and keeps it as given', (time) => {
      expect(parseCloudEvent({ ...minimal, time }).time).toBe(time);
    });

    it.each([
      'lunchtime',
      '2018-04-05T18:31Z',
      '2018-04-05T18:31:00X',
      '2018-04-05T18:31:00+25:00',
      '2018-04-05T18:31:00+xx:00',
      '2018-04-05T18:31:00+05',
      '2018-04-05T18:31:00+05:60',
      '2018-04-05T18:31:00',
      '2018-04-05 18:31:00Z',
      '2018-04-05T24:00:00Z',
      '2018-13-05T18:31:00Z',
      '2018-02-30T18:31:00Z',
      '2023-02-29T18:31:00Z',
      '2018-04-05T18:31:00.Z',
      '18-04-05T18:31:00Z',
    ])('rejects %s', (time) => {
      expect(rulesFor({ time })).toEqual(['time invalid_format']);
    });

    it('rejects non-strings and empty strings', () => {
      expect(rulesFor({ time: 1_522_949_460_000 })).toEqual(['time invalid_type']);
      expect(rulesFor({ time: '' })).toEqual(['time too_small']);
    });
  });

  describe('source (URI-reference)', () => {
    it.each([
      'https://cloudevents.io',
      '#fragment',
      '/sensors/tn-1234567/alerts',
      'cloudevents/spec/pull/123',
      '1-555-123-4567',
      'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
      'mailto:cncf-wg-serverless@lists.cncf.io',
      '//authority/path',
      'https://user:pw@[2001:db8::1]:8443/a?b=c#d',
      'https://example.com/caf%C3%A9',
    ])('accepts %s', (source) => {
      expect(parseCloudEvent({ ...minimal, source }).source).toBe(source);
    });

    it.each([
      'has space',
      '1a:b',
      'https://exa mple.com',
      '/bad%zz',
      'https://host:port/',
      'https://[::1/',
      'https://[not-ip]/',
      'café',
      '/a#b#c',
    ])('rejects %s', (source) => {
      expect(rulesFor({ source })).toEqual(['source invalid_format']);
    });

    it('rejects an empty source', () => {
      expect(rulesFor({ source: '' })).toEqual(['source too_small']);
    });
  });

  describe('dataschema (absolute URI)', () => {
    it.each(['https://cloudevents.io/dataschema', 'urn:keel:schema:healthcare.patient.created:1'])(
      'accepts %s',
      (dataschema) => {
        expect(parseCloudEvent({ ...minimal, dataschema }).dataschema).toBe(dataschema);
      },
    );

    it.each(['/relative/schema', 'schema.json', 'https://example.com/schema#v1', 'not a uri'])(
      'rejects %s',
      (dataschema) => {
        expect(rulesFor({ dataschema })).toEqual(['dataschema invalid_format']);
      },
    );

    it('rejects an empty dataschema', () => {
      expect(rulesFor({ dataschema: '' })).toEqual(['dataschema too_small']);
    });
  });

  describe('datacontenttype (RFC 2046 media type)', () => {
    it.each([
      'application/json',
      'text/plain; charset=utf-8',
      'application/vnd.apache.thrift.binary',
      'application/cloudevents+json;charset=UTF-8',
      'multipart/form-data; boundary="a b;c"',
    ])('accepts %s', (datacontenttype) => {
      expect(parseCloudEvent({ ...minimal, datacontenttype }).datacontenttype).toBe(datacontenttype);
    });

    it.each(['xyz', 'text/', '/json', 'text/plain;', 'text plain/x', 'application/json; charset', 'a/b/c'])(
      'rejects %s',
      (datacontenttype) => {
        expect(rulesFor({ datacontenttype })).toEqual(['datacontenttype invalid_format']);
      },
    );

    it('rejects an empty datacontenttype', () => {
      expect(rulesFor({ datacontenttype: '' })).toEqual(['datacontenttype too_small']);
    });
  });

  describe('extension attributes', () => {
    it('keeps strings, 32-bit integers and booleans', () => {
      const extensions = {
        tenantid: 'acme',
        extinteger: 10,
        min: -2_147_483_648,
        max: 2_147_483_647,
        extboolean: false,
        a1: '',
      };
      expect(parseCloudEvent({ ...minimal, ...extensions })).toStrictEqual({ ...minimal, ...extensions });
    });

    it('accepts a name longer than 20 characters, which the spec only discourages', () => {
      const event = parseCloudEvent({ ...minimal, averyveryverylongextensionname: 'x' });
      expect(event.averyveryverylongextensionname).toBe('x');
    });

    it.each(['MyExtension', 'my.extension', 'my-extension', 'my_extension', 'ünicode'])(
      'rejects the name %s',
      (name) => {
        expect(rulesFor({ [name]: 'bad' })).toEqual([`${name} invalid_name`]);
      },
    );

    it('rejects values outside the CloudEvents type system', () => {
      expect(rulesFor({ ext: 1.5 })).toEqual(['ext invalid_type']);
      expect(rulesFor({ ext: 2_147_483_648 })).toEqual(['ext too_big']);
      expect(rulesFor({ ext: -2_147_483_649 })).toEqual(['ext too_small']);
      expect(rulesFor({ ext: { nested: true } })).toEqual(['ext invalid_type']);
      expect(rulesFor({ ext: ['a'] })).toEqual(['ext invalid_type']);
      expect(rulesFor({ ext: 'bell\u0007' })).toEqual(['ext invalid_format']);
    });

    it('reports a bad name and a bad value of one attribute', () => {
      expect(rulesFor({ 'my.extension': 1.5 })).toEqual([
        'my.extension invalid_name',
        'my.extension invalid_type',
      ]);
    });
  });

  describe('data and data_base64', () => {
    it('decodes data_base64 into a Uint8Array', () => {
      const event = parseCloudEvent({ ...minimal, data_base64: 'TWE=' });
      expect(event.data).toBeInstanceOf(Uint8Array);
      expect([...(event.data as Uint8Array)]).toEqual([77, 97]);
      expect('data_base64' in event).toBe(false);
    });

    it('decodes an empty data_base64 into empty bytes', () => {
      expect(parseCloudEvent({ ...minimal, data_base64: '' }).data).toEqual(new Uint8Array(0));
    });

    it('rejects data_base64 that is not base64', () => {
      expect(rulesFor({ data_base64: 'not base64!' })).toEqual(['data_base64 invalid_format']);
      expect(rulesFor({ data_base64: 42 })).toEqual(['data_base64 invalid_type']);
    });

    it('rejects data and data_base64 together, even a null data', () => {
      expect(rulesFor({ data: 'text', data_base64: 'eyAieHl6IjogMTIzIH0=' })).toEqual([
        'data_base64 mutually_exclusive',
      ]);
      expect(rulesFor({ data: null, data_base64: 'AA==' })).toEqual(['data_base64 mutually_exclusive']);
    });

    it('keeps data of any JSON shape as it is', () => {
      const data = { nested: [1, 'two', { three: true }] };
      expect(parseCloudEvent({ ...minimal, data }).data).toBe(data);
    });
  });
});

describe('safeParseCloudEvent', () => {
  it('returns the issues instead of throwing', () => {
    const result = safeParseCloudEvent({ ...minimal, id: '' }, '[1]');
    expect(result).toEqual({
      success: false,
      issues: [{ path: '[1].id', rule: 'too_small', message: 'must not be empty' }],
    });
  });

  it('returns the event when valid', () => {
    expect(safeParseCloudEvent(minimal)).toEqual({ success: true, event: minimal });
  });
});
