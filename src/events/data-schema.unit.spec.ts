import { describe, expect, it } from 'vitest';
import { dataschemaFor, parseDataschema, versionOf } from './data-schema.ts';

describe('dataschema URNs', () => {
  it('name the type and version and parse back', () => {
    const uri = dataschemaFor('healthcare.patient.created', 12);
    expect(uri).toBe('urn:keel:schema:healthcare.patient.created:12');
    expect(parseDataschema(uri)).toEqual({ type: 'healthcare.patient.created', version: 12 });
  });

  it.each([
    undefined,
    'https://example.com/schema',
    'urn:keel:schema:a.b:0',
    'urn:keel:schema:a.b:01',
    'urn:keel:schema:a.b:x',
    'urn:keel:schema::1',
    'urn:keel:schema:a.b:99999999999999999999',
  ])('do not parse from %s', (uri) => {
    expect(parseDataschema(uri)).toBeUndefined();
  });

  it('give an event’s version only when the URN names its own type', () => {
    expect(versionOf({ type: 'a.b', dataschema: 'urn:keel:schema:a.b:3' })).toBe(3);
    expect(versionOf({ type: 'a.c', dataschema: 'urn:keel:schema:a.b:3' })).toBeUndefined();
    expect(versionOf({ type: 'a.b' })).toBeUndefined();
  });
});
