import { describe, expect, it } from 'vitest';
import { PatientCreated } from '../../../examples/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import { toRecord } from '../../events/kafka-binding.ts';
import type { StoredRecord } from '../../transport/transport.ts';
import { compileMessageFilter, filterView } from './message-filter.ts';

const data = { patientId: 'p-1', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' };

function stored(mode: 'binary' | 'structured', timestamp = 1_000): StoredRecord {
  const event = createEvent(PatientCreated, data, {
    source: 'urn:test',
    correlationId: 'c-1',
    tenantId: 'north',
  });
  return { topic: 't', partition: 0, offset: 0n, timestamp, ...toRecord(event, { mode }) };
}

describe('compileMessageFilter', () => {
  it('matches attributes from ce_ headers (binary) and from the decoded value (structured) alike', () => {
    for (const mode of ['binary', 'structured'] as const) {
      const record = stored(mode);
      expect(
        compileMessageFilter({ type: 'healthcare.patient.created', correlationId: 'c-1', tenant: 'north' })?.(
          record,
        ),
      ).toBe(true);
      expect(compileMessageFilter({ subject: 'p-1', key: 'p-1' })?.(record)).toBe(true);
      expect(compileMessageFilter({ tenant: 'south' })?.(record)).toBe(false);
    }
  });

  it('bounds by append time: since inclusive, until exclusive; an empty range is refused naming query.until', () => {
    const record = stored('binary', Date.parse('2026-01-01T00:00:00Z'));
    expect(compileMessageFilter({ since: '2026-01-01T00:00:00Z' })?.(record)).toBe(true);
    expect(compileMessageFilter({ until: '2026-01-01T00:00:00Z' })?.(record)).toBe(false);
    expect(() =>
      compileMessageFilter({ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }),
    ).toThrow(/query\.until/);
    expect(compileMessageFilter({})).toBeUndefined();
  });

  it('compares values as data: a value written as code is never run', () => {
    const record = stored('binary');
    let ran = false;
    (globalThis as { keelFilterRan?: () => void }).keelFilterRan = () => {
      ran = true;
    };
    for (const value of [
      "') || true || ('",
      'globalThis.keelFilterRan()',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder as data, on purpose
      '${keelFilterRan()}',
      '__proto__',
      'constructor',
    ]) {
      expect(compileMessageFilter({ type: value, key: value })?.(record)).toBe(false);
    }
    expect(ran).toBe(false);
  });

  it('looks at data conditions in both modes, and a record whose data does not decode matches none', () => {
    for (const mode of ['binary', 'structured'] as const) {
      const record = stored(mode);
      expect(compileMessageFilter({ where: ['data.lastName=="Lovelace"', 'subject==p-1'] })?.(record)).toBe(
        true,
      );
      expect(compileMessageFilter({ where: 'data.lastName=="Byron"' })?.(record)).toBe(false);
    }
    const broken = { ...stored('binary'), value: new TextEncoder().encode('{"lastName": "Lovelace"') };
    expect(filterView(broken)).toBeUndefined();
    expect(compileMessageFilter({ where: 'data.lastName=="Lovelace"' })?.(broken)).toBe(false);
    expect(filterView(stored('binary'))).toMatchObject({
      type: 'healthcare.patient.created',
      tenantid: 'north',
      data,
    });
  });
});
