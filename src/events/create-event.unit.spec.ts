import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PatientCreated } from '../../examples/catalog.ts';
import { createEvent, validateEventData } from './create-event.ts';
import { defineEvent } from './define-event.ts';
import { ValidationError } from './errors.ts';
import { issuesOf, pathsAndRules } from './test-support/issues.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const patient = { patientId: 'p-1', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' };

describe('createEvent', () => {
  it('builds a complete envelope from the definition, the data and the options', () => {
    const before = Date.now();
    const event = createEvent(PatientCreated, patient, {
      source: '/services/patients',
      tenantId: 'acme',
      correlationId: 'corr-1',
      causationId: 'cmd-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(event).toStrictEqual({
      specversion: '1.0',
      id: expect.stringMatching(UUID_V7),
      source: '/services/patients',
      type: 'healthcare.patient.created',
      subject: 'p-1',
      time: expect.any(String),
      datacontenttype: 'application/json',
      dataschema: 'urn:keel:schema:healthcare.patient.created:1',
      tenantid: 'acme',
      correlationid: 'corr-1',
      causationid: 'cmd-1',
      partitionkey: 'p-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      data: patient,
    });
    const time = Date.parse(event.time ?? '');
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('omits absent attributes instead of setting them undefined', () => {
    const Keyless = defineEvent({ type: 'test.keyless', version: 1, schema: z.object({ n: z.number() }) });
    const event = createEvent(Keyless, { n: 1 }, { source: '/s' });
    expect(Object.keys(event).sort()).toEqual(
      ['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'dataschema', 'data'].sort(),
    );
  });

  it('uses the id, time, subject and partition key given', () => {
    const event = createEvent(PatientCreated, patient, {
      source: '/s',
      id: 'fixed',
      time: new Date('2024-01-02T03:04:05.678Z'),
      subject: 'patients/p-1',
      partitionKey: 'tenant-acme',
    });
    expect(event).toMatchObject({
      id: 'fixed',
      time: '2024-01-02T03:04:05.678Z',
      subject: 'patients/p-1',
      partitionkey: 'tenant-acme',
    });
    expect(
      createEvent(PatientCreated, patient, { source: '/s', time: '2024-01-02T03:04:05+01:00' }).time,
    ).toBe('2024-01-02T03:04:05+01:00');
  });

  it('carries the parsed data (defaults and transforms applied)', () => {
    const Defaults = defineEvent({
      type: 'test.defaults',
      version: 2,
      schema: z.object({ name: z.string().trim(), count: z.number().default(1) }),
      upcasters: [{ fromVersion: 1, upcast: (d) => d }],
    });
    const event = createEvent(Defaults, { name: '  x  ' }, { source: '/s' });
    expect(event.data).toEqual({ name: 'x', count: 1 });
    expect(event.dataschema).toBe('urn:keel:schema:test.defaults:2');
  });

  it('lists every data issue at data.<field>, a missing field as "Required"', () => {
    const issues = issuesOf(() =>
      createEvent(PatientCreated, { patientId: 'p-1', dateOfBirth: '10/12/1815', email: 'nope' } as never, {
        source: '/s',
      }),
    );
    expect(issues).toEqual([
      { path: 'data.firstName', rule: 'invalid_type', message: 'Required' },
      { path: 'data.lastName', rule: 'invalid_type', message: 'Required' },
      { path: 'data.dateOfBirth', rule: 'invalid_format', message: expect.any(String) },
      { path: 'data.email', rule: 'invalid_format', message: expect.any(String) },
    ]);
  });

  it('names array indexes in data paths and reports missing data as a whole', () => {
    const Order = defineEvent({
      type: 'test.order',
      version: 1,
      schema: z.object({ items: z.array(z.object({ sku: z.string() })) }),
    });
    expect(
      pathsAndRules(issuesOf(() => createEvent(Order, { items: [{ sku: 1 }] } as never, { source: '/s' }))),
    ).toEqual(['data.items[0].sku invalid_type']);
    expect(issuesOf(() => createEvent(Order, undefined as never, { source: '/s' }))).toEqual([
      { path: 'data', rule: 'invalid_type', message: 'Required' },
    ]);
  });

  it('reports data and envelope issues together, naming the event type', () => {
    try {
      createEvent(
        PatientCreated,
        { ...patient, firstName: '' },
        { source: 'not a uri', time: new Date(Number.NaN) },
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).eventType).toBe('healthcare.patient.created');
      expect(pathsAndRules((error as ValidationError).issues)).toEqual([
        'data.firstName too_small',
        'source invalid_format',
        'time invalid_format',
      ]);
    }
  });
});

describe('validateEventData', () => {
  const received = {
    specversion: '1.0' as const,
    id: 'e-1',
    source: '/clinic',
    type: 'healthcare.patient.created',
    data: patient,
  };

  it('returns the event with parsed data, JSON content type and the current dataschema', () => {
    expect(validateEventData(PatientCreated, received)).toStrictEqual({
      ...received,
      datacontenttype: 'application/json',
      dataschema: 'urn:keel:schema:healthcare.patient.created:1',
    });
  });

  it('treats a foreign dataschema as the current version and replaces it', () => {
    const event = validateEventData(PatientCreated, {
      ...received,
      dataschema: 'https://example.com/patient.json',
    });
    expect(event.dataschema).toBe('urn:keel:schema:healthcare.patient.created:1');
  });

  it('parses JSON data that arrived as bytes', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(patient));
    expect(
      validateEventData(PatientCreated, { ...received, datacontenttype: 'application/json', data: bytes })
        .data,
    ).toEqual(patient);
    const issues = issuesOf(() =>
      validateEventData(PatientCreated, { ...received, data: new Uint8Array([123]) }),
    );
    expect(pathsAndRules(issues)).toEqual(['data malformed_json']);
  });

  it('lists data issues at data.<field>', () => {
    const issues = issuesOf(() =>
      validateEventData(PatientCreated, { ...received, data: { patientId: 'p' } }),
    );
    expect(pathsAndRules(issues)).toEqual([
      'data.firstName invalid_type',
      'data.lastName invalid_type',
      'data.dateOfBirth invalid_type',
    ]);
    expect(issues[0]?.message).toBe('Required');
  });

  it('refuses another type, another type’s schema and non-JSON content', () => {
    const issues = issuesOf(() =>
      validateEventData(PatientCreated, {
        ...received,
        type: 'healthcare.patient.updated',
        dataschema: 'urn:keel:schema:healthcare.patient.updated:1',
        datacontenttype: 'text/plain',
      }),
    );
    expect(pathsAndRules(issues)).toEqual([
      'type invalid_value',
      'dataschema invalid_value',
      'datacontenttype invalid_value',
    ]);
  });

  it('refuses an invalid envelope', () => {
    expect(pathsAndRules(issuesOf(() => validateEventData(PatientCreated, { ...received, id: '' })))).toEqual(
      ['id too_small'],
    );
  });

  describe('with older versions', () => {
    const NameChanged = defineEvent({
      type: 'test.name.changed',
      version: 3,
      schema: z.object({ givenName: z.string(), familyName: z.string(), source: z.string() }),
      upcasters: [
        { fromVersion: 1, upcast: (d) => ({ ...(d as object), source: 'legacy' }) },
        {
          fromVersion: 2,
          upcast: (d) => {
            const { name, ...rest } = d as { name: string };
            if (typeof name !== 'string') throw new Error('name is missing');
            const [givenName, familyName] = name.split(' ');
            return { ...rest, givenName, familyName };
          },
        },
      ],
    });
    const v1 = {
      specversion: '1.0' as const,
      id: 'e-1',
      source: '/legacy',
      type: 'test.name.changed',
      dataschema: 'urn:keel:schema:test.name.changed:1',
      data: { name: 'Ada Lovelace' },
    };

    it('upcasts data through every step and names the current version', () => {
      const event = validateEventData(NameChanged, v1);
      expect(event.data).toEqual({ givenName: 'Ada', familyName: 'Lovelace', source: 'legacy' });
      expect(event.dataschema).toBe('urn:keel:schema:test.name.changed:3');
    });

    it('refuses a version newer than the definition', () => {
      const issues = issuesOf(() =>
        validateEventData(NameChanged, { ...v1, dataschema: 'urn:keel:schema:test.name.changed:4' }),
      );
      expect(pathsAndRules(issues)).toEqual(['dataschema newer_version']);
    });

    it('reports a failing upcaster at data', () => {
      const issues = issuesOf(() => validateEventData(NameChanged, { ...v1, data: {} }));
      expect(pathsAndRules(issues)).toEqual(['data upcaster_failed']);
    });

    it('refuses data older than the oldest upcaster', () => {
      const Partial = defineEvent({
        type: 'test.partial',
        version: 3,
        schema: z.object({}),
        upcasters: [{ fromVersion: 2, upcast: (d) => d }],
      });
      const issues = issuesOf(() =>
        validateEventData(Partial, {
          ...v1,
          type: 'test.partial',
          dataschema: 'urn:keel:schema:test.partial:1',
        }),
      );
      expect(pathsAndRules(issues)).toEqual(['dataschema missing_upcaster']);
    });
  });
});
