import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CloudEvent } from './cloud-event.ts';
import { ValidationError } from './errors.ts';
import { decodeBatch, decodeStructured } from './json-format.ts';
import { pathsAndRules } from './test-support/issues.ts';
import { timestampToEpochMs } from './timestamp.ts';
import { isAbsoluteUri, isUriReference } from './uri.ts';

// The CloudEvents conformance vectors (format/README.md), copied with their LICENSE into test/fixtures.
const FIXTURES = new URL('../../test/fixtures/cloudevents/format/json/', import.meta.url);

interface Vector {
  id: string;
  sampleId?: string;
  testType?: string;
  event?: unknown;
  batch?: unknown;
  sampleExtensionAttributes?: boolean;
  extensionConstraints?: boolean;
}

function vectors(file: string): { testType: string; tests: Vector[] } {
  return JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8'));
}

// The "golden" sample events of format/README.md, written in code as the README asks.
const minimal: CloudEvent = {
  specversion: '1.0',
  id: 'minimal',
  type: 'io.cloudevents.test',
  source: 'https://cloudevents.io',
};
const allCore: CloudEvent = {
  ...minimal,
  id: 'allCore',
  datacontenttype: 'text/plain',
  dataschema: 'https://cloudevents.io/dataschema',
  subject: 'tests',
  time: '2018-04-05T17:31:00Z',
};
const allExtensionTypes: CloudEvent = {
  ...minimal,
  id: 'allExtensionTypes',
  extinteger: 10,
  extboolean: true,
  extstring: 'text',
  extbinary: new Uint8Array([77, 97]),
  exttimestamp: '2023-03-31T15:12:00Z',
  exturi: 'https://cloudevents.io',
  exturiref: '//authority/path',
};
const sampleEvents: Record<string, CloudEvent> = {
  minimal,
  minimalWithTime: { ...minimal, id: 'minimalWithTime', time: '2018-04-05T17:31:00Z' },
  minimalWithRelativeSource: { ...minimal, id: 'minimalWithRelativeSource', source: '#fragment' },
  allCore,
  // The README gives this sample the id "simpleData"; the vector that names it uses "simpleTextData".
  simpleTextData: { ...minimal, id: 'simpleTextData', datacontenttype: 'text/plain', data: 'Simple text' },
  allExtensionTypes,
};
const sampleBatches: Record<string, CloudEvent[]> = {
  empty: [],
  minimal: [minimal],
  minimal2: [minimal, minimal],
  minimalAndAllCore: [minimal, allCore],
  minimalAndAllExtensionTypes: [minimal, allExtensionTypes],
};

// The sample extension attributes and their types. The JSON format cannot carry Binary, Timestamp or URI
// types, so (as the README allows SDKs to) the test applies these definitions to the parsed strings.
const sampleExtensionTypes: Record<string, (value: unknown) => unknown> = {
  extinteger: (value) => z.int32().parse(value),
  extboolean: (value) => z.boolean().parse(value),
  extstring: (value) => z.string().parse(value),
  extbinary: (value) =>
    value instanceof Uint8Array ? value : Uint8Array.from(Buffer.from(z.base64().parse(value), 'base64')),
  exttimestamp: (value) => instant(z.string().parse(value)),
  exturi: (value) => z.string().refine(isAbsoluteUri).parse(value),
  exturiref: (value) => z.string().refine(isUriReference).parse(value),
};

function instant(value: string): number {
  const ms = timestampToEpochMs(value);
  if (ms === undefined) throw new Error(`not a timestamp: ${value}`);
  return ms;
}

// Only CloudEvent-relevant differences count: timestamps compare as instants, typed extensions by value.
function comparable(event: CloudEvent, withSampleExtensions: boolean): Record<string, unknown> {
  const result: Record<string, unknown> = { ...event };
  if (event.time !== undefined) result.time = instant(event.time);
  if (withSampleExtensions) {
    for (const [name, convert] of Object.entries(sampleExtensionTypes)) {
      if (name in result) result[name] = convert(result[name]);
    }
  }
  return result;
}

function rejection(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected the vector to be rejected');
}

// What each invalid vector must be rejected for: a vector added upstream without an entry here fails.
const expectedIssues: Record<string, string[]> = {
  invalidNoSpecVersion: ['specversion required'],
  invalidNoId: ['id required'],
  invalidNoType: ['type required'],
  invalidNoSource: ['source required'],
  invalidTimeGarbage: ['time invalid_format'],
  invalidTimeToMinute: ['time invalid_format'],
  invalidTimeOffsetX: ['time invalid_format'],
  invalidTimeOffsetOutOfRange: ['time invalid_format'],
  invalidTimeOffsetNonInteger: ['time invalid_format'],
  invalidTimeOffsetHourOnly: ['time invalid_format'],
  invalidEmptyId: ['id too_small'],
  invalidEmptyType: ['type too_small'],
  invalidEmptySource: ['source too_small'],
  invalidEmptySpecVersion: ['specversion invalid_value'],
  invalidUnknownSpecVersion: ['specversion invalid_value'],
  invalidNonRfc2046DataContentType: ['datacontenttype invalid_format'],
  invalidEmptyDataContentType: ['datacontenttype too_small'],
  invalidEmptyDataSchema: ['dataschema too_small'],
  invalidEmptySubject: ['subject too_small'],
  invalidNumericId: ['id invalid_type'],
  invalidObjectId: ['id invalid_type'],
  invalidCapitalizedExtension: ['MyExtension invalid_name'],
  invalidPunctuatedExtension: ['my.extension invalid_name'],
  invalidNonIntegerExtensionValue: ['my.extension invalid_name', 'my.extension invalid_type'],
  invalidBothDataAndDataBase64: ['data_base64 mutually_exclusive'],
  invalidBatchMixedSpecVersions: ['[1].specversion invalid_value'],
  invalidBatchContainingInvalidCloudEvent: ['[0].id required'],
  invalidBatchContainingNonObject: ['[0] invalid_type'],
};

describe('CloudEvents JSON format conformance', () => {
  describe.each(['valid-events.json', 'valid-batches.json', 'invalid-events.json', 'invalid-batches.json'])(
    '%s',
    (file) => {
      const { testType, tests } = vectors(file);

      it('holds vectors', () => {
        expect(tests.length).toBeGreaterThan(0);
      });

      it.each(tests.map((vector) => [vector.id, vector] as const))('%s', (_id, vector) => {
        const type = vector.testType ?? testType;
        const text = JSON.stringify(type.endsWith('Batch') ? vector.batch : vector.event);
        const withSampleExtensions = vector.sampleExtensionAttributes === true;
        switch (type) {
          case 'ValidSingleEvent': {
            const sample = sampleEvents[vector.sampleId ?? ''];
            expect(sample, `sample ${vector.sampleId}`).toBeDefined();
            const event = decodeStructured(text);
            expect(comparable(event, withSampleExtensions)).toEqual(
              comparable(sample!, withSampleExtensions),
            );
            break;
          }
          case 'ValidBatch': {
            const sample = sampleBatches[vector.sampleId ?? ''];
            expect(sample, `sample ${vector.sampleId}`).toBeDefined();
            const events = decodeBatch(text);
            expect(events.map((e) => comparable(e, withSampleExtensions))).toEqual(
              sample!.map((e) => comparable(e, withSampleExtensions)),
            );
            break;
          }
          case 'InvalidSingleEvent':
          case 'InvalidBatch': {
            const error = rejection(() =>
              type === 'InvalidBatch' ? decodeBatch(text) : decodeStructured(text),
            );
            expect(expectedIssues[vector.id], `expected issues of ${vector.id}`).toBeDefined();
            expect(pathsAndRules(error.issues)).toEqual(expectedIssues[vector.id]);
            break;
          }
          default:
            throw new Error(`unknown test type ${type}`);
        }
      });
    },
  );

  it('compares times as instants: an offset or extra precision is no difference', () => {
    const utc = decodeStructured(JSON.stringify({ ...minimal, time: '2018-04-05T17:31:00Z' }));
    const offset = decodeStructured(JSON.stringify({ ...minimal, time: '2018-04-05T18:31:00.000+01:00' }));
    const later = decodeStructured(JSON.stringify({ ...minimal, time: '2018-04-05T17:31:00.001Z' }));
    expect(comparable(utc, false)).toEqual(comparable(offset, false));
    expect(comparable(utc, false)).not.toEqual(comparable(later, false));
  });

  it('rejects a non-integer extension value under a valid name too', () => {
    const error = rejection(() => decodeStructured(JSON.stringify({ ...minimal, myextension: 1.5 })));
    expect(pathsAndRules(error.issues)).toEqual(['myextension invalid_type']);
  });
});
