import { describe, expect, it } from 'vitest';
import { PatientCreated } from '../../../examples/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import { toRecord } from '../../events/kafka-binding.ts';
import type { StoredRecord } from '../../transport/transport.ts';
import { compileMessageFilter } from './message-filter.ts';

const record: StoredRecord = {
  topic: 't',
  partition: 2,
  offset: 41n,
  timestamp: 1_000,
  ...toRecord(
    createEvent(
      PatientCreated,
      { patientId: 'p-1', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' },
      { source: 'urn:test', tenantId: 'north' },
    ),
  ),
};
const matches = (cel: string) => compileMessageFilter({ cel })?.(record);

describe('CEL filters', () => {
  it('evaluate over the event, its data, the key and the record position', () => {
    expect(matches('data.lastName == "Lovelace" && event.tenantid == "north"')).toBe(true);
    expect(matches('event.type.endsWith(".created") && key.startsWith("p-")')).toBe(true);
    expect(matches('partition == 2 && offset == 41 && timestamp < 2000')).toBe(true);
    expect(matches('data.lastName in ["Byron", "Babbage"]')).toBe(false);
  });

  it('do not match a record they cannot be evaluated on (a missing field, a wrong type)', () => {
    expect(matches('data.vitals.heartRate > 120')).toBe(false);
    expect(matches('data.lastName > 3')).toBe(false);
    expect(matches('data.lastName')).toBe(false);
  });

  it('refuse an expression that does not parse, naming the field and saying where', () => {
    expect(() => compileMessageFilter({ cel: 'data.lastName ==' }, 'body')).toThrow(
      /body\.cel.*not a CEL expression/,
    );
  });

  it('cannot run code, reach the process or prototypes, or change anything', () => {
    const attempts = [
      'this.constructor.constructor("return process")()',
      'process.exit(1)',
      'data.constructor.prototype.polluted = true',
      'data.__proto__.polluted == true',
      'event.constructor.name == "Object"',
      'globalThis.process.env.HOME != ""',
    ];
    for (const cel of attempts) {
      const outcome = (() => {
        try {
          return matches(cel);
        } catch (error) {
          return (error as Error).message;
        }
      })();
      // Refused as not CEL, or evaluated to "no match": never true, never a side effect.
      expect(outcome === false || /not a CEL expression/.test(String(outcome))).toBe(true);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(process.exitCode).toBeUndefined();
  });
});
