import { describe, expect, it } from 'vitest';
import { catalog } from '../../examples/catalog.ts';

describe('catalog.jsonSchemas', () => {
  it('exports a JSON Schema of PatientCreated naming its required fields', () => {
    const schema = catalog.jsonSchemas()['healthcare.patient.created'];
    expect(schema).toMatchObject({
      type: 'object',
      title: 'healthcare.patient.created',
      'x-keel-version': 1,
      properties: {
        patientId: { type: 'string', minLength: 1 },
        dateOfBirth: { type: 'string', format: 'date' },
        email: { type: 'string', format: 'email' },
      },
    });
    expect([...((schema?.required as string[]) ?? [])].sort()).toEqual(
      ['dateOfBirth', 'firstName', 'lastName', 'patientId'].sort(),
    );
  });

  it('exports a schema for every event type', () => {
    expect(Object.keys(catalog.jsonSchemas()).sort()).toEqual(catalog.events.map((e) => e.type).sort());
  });
});
