import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { parseSchema } from '../parse-schema.ts';
import type { CompatibilityLevel } from '../types.ts';
import { avroIncompatibilities } from './avro-compatibility.ts';
import { compatibilityIncompatibilities } from './check-compatibility.ts';

const parse = (schema: unknown) => parseSchema('AVRO', JSON.stringify(schema), [], []);
const record = (fields: unknown[], extra: Record<string, unknown> = {}) => ({
  type: 'record',
  name: 'Patient',
  namespace: 'healthcare',
  fields,
  ...extra,
});
const name = { name: 'name', type: 'string' };
const email = { name: 'email', type: 'string' };
const emailOptional = { name: 'email', type: ['null', 'string'], default: null };

/** [case, level, earlier versions (oldest first), candidate, expected rules ('' = compatible)]. */
type Case = [string, CompatibilityLevel, unknown[], unknown, string[]];

// Confluent's "Schema Evolution and Compatibility" summary: BACKWARD allows deleting fields and adding
// optional ones; FORWARD adding fields and deleting optional ones; FULL adding and deleting optional ones.
const confluentCases: Case[] = [
  ['BACKWARD: delete a field', 'BACKWARD', [record([name, email])], record([name]), []],
  ['BACKWARD: add an optional field', 'BACKWARD', [record([name])], record([name, emailOptional]), []],
  [
    'BACKWARD: add a field without default',
    'BACKWARD',
    [record([name])],
    record([name, email]),
    ['READER_FIELD_MISSING_DEFAULT_VALUE'],
  ],
  ['FORWARD: add a field without default', 'FORWARD', [record([name])], record([name, email]), []],
  ['FORWARD: delete an optional field', 'FORWARD', [record([name, emailOptional])], record([name]), []],
  [
    'FORWARD: delete a required field',
    'FORWARD',
    [record([name, email])],
    record([name]),
    ['READER_FIELD_MISSING_DEFAULT_VALUE'],
  ],
  ['FULL: add an optional field', 'FULL', [record([name])], record([name, emailOptional]), []],
  ['FULL: delete an optional field', 'FULL', [record([name, emailOptional])], record([name]), []],
  [
    'FULL: add a required field',
    'FULL',
    [record([name])],
    record([name, email]),
    ['READER_FIELD_MISSING_DEFAULT_VALUE'],
  ],
  ['NONE: anything goes', 'NONE', [record([name])], record([{ name: 'name', type: 'int' }]), []],
  // Transitive levels check every earlier version; the plain ones the latest only (Confluent's own example:
  // v1 without the field, v2 adds it with a default, v3 drops the default).
  [
    'BACKWARD: only the latest version counts',
    'BACKWARD',
    [record([name]), record([name, { name: 'email', type: 'string', default: '' }])],
    record([name, email]),
    [],
  ],
  [
    'BACKWARD_TRANSITIVE: every version counts',
    'BACKWARD_TRANSITIVE',
    [record([name]), record([name, { name: 'email', type: 'string', default: '' }])],
    record([name, email]),
    ['READER_FIELD_MISSING_DEFAULT_VALUE'],
  ],
  [
    'FORWARD_TRANSITIVE: every version must read the new data',
    'FORWARD_TRANSITIVE',
    [record([name, email]), record([name, emailOptional])],
    record([name]),
    ['READER_FIELD_MISSING_DEFAULT_VALUE'],
  ],
  [
    'FULL_TRANSITIVE: both directions, every version',
    'FULL_TRANSITIVE',
    [record([name]), record([name, emailOptional])],
    record([name, { name: 'age', type: 'int', default: 0 }]),
    [],
  ],
];

// Avro's specification, "Schema Resolution".
const avroSpecCases: Case[] = [
  ...['long', 'float', 'double'].map(
    (to): Case => [
      `promote int to ${to}`,
      'BACKWARD',
      [record([{ name: 'n', type: 'int' }])],
      record([{ name: 'n', type: to }]),
      [],
    ],
  ),
  [
    'promote long to double',
    'BACKWARD',
    [record([{ name: 'n', type: 'long' }])],
    record([{ name: 'n', type: 'double' }]),
    [],
  ],
  [
    'string and bytes',
    'FULL',
    [record([{ name: 'n', type: 'string' }])],
    record([{ name: 'n', type: 'bytes' }]),
    [],
  ],
  [
    'demote long to int',
    'BACKWARD',
    [record([{ name: 'n', type: 'long' }])],
    record([{ name: 'n', type: 'int' }]),
    ['TYPE_MISMATCH'],
  ],
  [
    'a field by its alias',
    'BACKWARD',
    [record([{ name: 'mail', type: 'string' }])],
    record([{ name: 'email', type: 'string', aliases: ['mail'] }]),
    [],
  ],
  [
    'a record renamed without alias',
    'BACKWARD',
    [record([name])],
    record([name], { name: 'Person' }),
    ['NAME_MISMATCH'],
  ],
  [
    'a record renamed with an alias',
    'BACKWARD',
    [record([name])],
    record([name], { name: 'Person', aliases: ['healthcare.Patient'] }),
    [],
  ],
  [
    'an enum loses a symbol the writer writes',
    'BACKWARD',
    [record([{ name: 's', type: { type: 'enum', name: 'Status', symbols: ['A', 'B', 'C'] } }])],
    record([{ name: 's', type: { type: 'enum', name: 'Status', symbols: ['A', 'B'] } }]),
    ['MISSING_ENUM_SYMBOLS'],
  ],
  [
    'an enum with a default reads unknown symbols',
    'BACKWARD',
    [record([{ name: 's', type: { type: 'enum', name: 'Status', symbols: ['A', 'B', 'C'] } }])],
    record([{ name: 's', type: { type: 'enum', name: 'Status', symbols: ['A', 'B'], default: 'A' } }]),
    [],
  ],
  [
    'fixed changes size',
    'BACKWARD',
    [record([{ name: 'f', type: { type: 'fixed', name: 'Hash', size: 16 } }])],
    record([{ name: 'f', type: { type: 'fixed', name: 'Hash', size: 32 } }]),
    ['FIXED_SIZE_MISMATCH'],
  ],
  [
    'a field becomes a union containing it',
    'BACKWARD',
    [record([{ name: 'n', type: 'string' }])],
    record([{ name: 'n', type: ['null', 'string'] }]),
    [],
  ],
  [
    'a union loses a branch the writer wrote',
    'BACKWARD',
    [record([{ name: 'n', type: ['null', 'string', 'int'] }])],
    record([{ name: 'n', type: ['null', 'string'] }]),
    ['MISSING_UNION_BRANCH'],
  ],
  [
    'array items and map values are resolved',
    'BACKWARD',
    [
      record([
        { name: 'a', type: { type: 'array', items: 'int' } },
        { name: 'm', type: { type: 'map', values: 'string' } },
      ]),
    ],
    record([
      { name: 'a', type: { type: 'array', items: 'string' } },
      { name: 'm', type: { type: 'map', values: 'int' } },
    ]),
    ['TYPE_MISMATCH', 'TYPE_MISMATCH'],
  ],
];

describe('Avro compatibility', () => {
  it.each([...confluentCases, ...avroSpecCases])('%s (%s)', (_case, level, earlier, candidate, rules) => {
    const versions = earlier.map((schema, index) => ({ version: index + 1, parsed: parse(schema) }));
    const issues = compatibilityIncompatibilities(parse(candidate), versions, level);
    expect(issues.map((issue) => issue.rule)).toEqual(rules);
  });

  it('agrees with avsc, whose resolver refuses to read what Avro cannot resolve', () => {
    // avsc's resolver is an implementation of the same rules that Keel did not write: on every pair of the
    // tables (both directions) it refuses exactly when Keel finds an incompatibility, enums aside (avsc
    // defers a missing symbol to read time).
    const schemas = [...confluentCases, ...avroSpecCases].flatMap(([, , earlier, candidate]) => [
      ...earlier.map((schema) => [schema, candidate] as const),
    ]);
    let compared = 0;
    for (const [a, b] of schemas) {
      for (const [reader, writer] of [
        [a, b],
        [b, a],
      ] as const) {
        const r = parse(reader).avro as avro.Type;
        const w = parse(writer).avro as avro.Type;
        const issues = avroIncompatibilities(r, w);
        if (issues.some((issue) => issue.rule === 'MISSING_ENUM_SYMBOLS')) continue;
        let refused = false;
        try {
          r.createResolver(w);
        } catch {
          refused = true;
        }
        expect({ reader, writer, refused }).toEqual({ reader, writer, refused: issues.length > 0 });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });

  it('says which change broke which rule, where, and against which version', () => {
    const versions = [{ version: 1, parsed: parse(record([name])) }];
    const [issue] = compatibilityIncompatibilities(parse(record([name, email])), versions, 'BACKWARD');
    expect(issue).toEqual({
      rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
      path: '/fields/1',
      message:
        "field 'email' of healthcare.Patient has no default, and the writer's healthcare.Patient has no such field to read it from",
      against: { version: 1, direction: 'reads' },
    });
  });

  it('follows recursive types without looping', () => {
    const list = (valueType: string) => ({
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'value', type: valueType },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    });
    expect(
      avroIncompatibilities(parse(list('long')).avro as avro.Type, parse(list('int')).avro as avro.Type),
    ).toEqual([]);
    const issues = avroIncompatibilities(
      parse(list('int')).avro as avro.Type,
      parse(list('long')).avro as avro.Type,
    );
    expect(issues.map((issue) => [issue.rule, issue.path])).toEqual([['TYPE_MISMATCH', '/fields/0/type']]);
  });
});
