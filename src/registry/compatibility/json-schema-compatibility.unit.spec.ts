import { describe, expect, it } from 'vitest';
import { parseSchema } from '../parse-schema.ts';
import type { CompatibilityLevel } from '../types.ts';
import { compatibilityIncompatibilities } from './check-compatibility.ts';

const parse = (schema: unknown) => parseSchema('JSON', JSON.stringify(schema), [], []);
const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  ...extra,
});
const closed = { additionalProperties: false };
const name = { name: { type: 'string' } };
const withEmail = { ...name, email: { type: 'string' } };

/** [case, level, earlier versions (oldest first), candidate, expected [rule, path] pairs]. */
type Case = [string, CompatibilityLevel, unknown[], unknown, [string, string][]];

// Confluent's JSON Schema rules ("Schema Evolution and Compatibility", JSON Schema; and the open and closed
// content models): in a closed model adding an optional property is backward compatible and removing one is
// not; in an open model removing is backward compatible and adding a typed property is not.
const contentModelCases: Case[] = [
  ['closed: add an optional property', 'BACKWARD', [object(name, closed)], object(withEmail, closed), []],
  [
    'closed: remove a property',
    'BACKWARD',
    [object(withEmail, closed)],
    object(name, closed),
    [['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', '/properties/email']],
  ],
  ['open: remove a property', 'BACKWARD', [object(withEmail)], object(name), []],
  [
    'open: add a typed property',
    'BACKWARD',
    [object(name)],
    object(withEmail),
    [['PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', '/properties/email']],
  ],
  ['open: add an untyped property', 'BACKWARD', [object(name)], object({ ...name, note: {} }), []],
  ['open: add a typed property, FORWARD', 'FORWARD', [object(name)], object(withEmail), []],
  [
    'closed: remove a property, FORWARD is fine, FULL is not',
    'FULL',
    [object(withEmail, closed)],
    object(name, closed),
    [['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', '/properties/email']],
  ],
  [
    'partially open: an added property the pattern already covered',
    'BACKWARD',
    [object(name, { patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false })],
    object(
      { ...name, 'x-source': { type: 'string' } },
      { patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false },
    ),
    [],
  ],
  [
    'partially open: an added property narrower than its pattern',
    'BACKWARD',
    [object(name, { patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false })],
    object(
      { ...name, 'x-count': { type: 'integer' } },
      { patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false },
    ),
    [['PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', '/properties/x-count']],
  ],
  [
    'additionalProperties closed',
    'BACKWARD',
    [object(name)],
    object(name, closed),
    [['ADDITIONAL_PROPERTIES_REMOVED', '/additionalProperties']],
  ],
  ['additionalProperties opened', 'BACKWARD', [object(name, closed)], object(name), []],
];

const keywordCases: Case[] = [
  [
    'a property becomes required',
    'BACKWARD',
    [object(withEmail, closed)],
    object(withEmail, { ...closed, required: ['email'] }),
    [['REQUIRED_PROPERTY_ADDED', '/required']],
  ],
  [
    'a property stops being required',
    'BACKWARD',
    [object(withEmail, { required: ['email'] })],
    object(withEmail),
    [],
  ],
  [
    'a required property stops being required, FORWARD',
    'FORWARD',
    [object(withEmail, { required: ['email'] })],
    object(withEmail),
    [['REQUIRED_PROPERTY_ADDED', '/required']],
  ],
  [
    'a type widened',
    'BACKWARD',
    [object({ age: { type: 'integer' } })],
    object({ age: { type: ['integer', 'null'] } }),
    [],
  ],
  [
    'integer read as number',
    'BACKWARD',
    [object({ age: { type: 'integer' } })],
    object({ age: { type: 'number' } }),
    [],
  ],
  [
    'a type narrowed',
    'BACKWARD',
    [object({ age: { type: ['integer', 'string'] } })],
    object({ age: { type: 'integer' } }),
    [['TYPE_NARROWED', '/properties/age/type']],
  ],
  [
    'a type changed',
    'BACKWARD',
    [object({ age: { type: 'integer' } })],
    object({ age: { type: 'string' } }),
    [['TYPE_CHANGED', '/properties/age/type']],
  ],
  [
    'number narrowed to integer',
    'BACKWARD',
    [object({ dose: { type: 'number' } })],
    object({ dose: { type: 'integer' } }),
    [['TYPE_NARROWED', '/properties/dose/type']],
  ],
  [
    'an enum extended',
    'BACKWARD',
    [object({ s: { enum: ['A', 'B'] } })],
    object({ s: { enum: ['A', 'B', 'C'] } }),
    [],
  ],
  [
    'an enum narrowed',
    'BACKWARD',
    [object({ s: { enum: ['A', 'B', 'C'] } })],
    object({ s: { enum: ['A', 'B'] } }),
    [['ENUM_ARRAY_NARROWED', '/properties/s/enum']],
  ],
  [
    'an enum added where any string was allowed',
    'BACKWARD',
    [object({ s: { type: 'string' } })],
    object({ s: { type: 'string', enum: ['A'] } }),
    [['ENUM_ARRAY_NARROWED', '/properties/s/enum']],
  ],
  [
    'maxLength added',
    'BACKWARD',
    [object({ n: { type: 'string' } })],
    object({ n: { type: 'string', maxLength: 10 } }),
    [['MAX_LENGTH_ADDED', '/properties/n/maxLength']],
  ],
  [
    'maxLength increased',
    'BACKWARD',
    [object({ n: { type: 'string', maxLength: 10 } })],
    object({ n: { type: 'string', maxLength: 20 } }),
    [],
  ],
  [
    'maxLength decreased',
    'BACKWARD',
    [object({ n: { type: 'string', maxLength: 20 } })],
    object({ n: { type: 'string', maxLength: 10 } }),
    [['MAX_LENGTH_DECREASED', '/properties/n/maxLength']],
  ],
  [
    'minimum increased',
    'BACKWARD',
    [object({ n: { type: 'integer', minimum: 0 } })],
    object({ n: { type: 'integer', minimum: 1 } }),
    [['MINIMUM_INCREASED', '/properties/n/minimum']],
  ],
  [
    'minimum decreased',
    'BACKWARD',
    [object({ n: { type: 'integer', minimum: 1 } })],
    object({ n: { type: 'integer', minimum: 0 } }),
    [],
  ],
  [
    'pattern added',
    'BACKWARD',
    [object({ n: { type: 'string' } })],
    object({ n: { type: 'string', pattern: '^[A-Z]+$' } }),
    [['PATTERN_ADDED', '/properties/n/pattern']],
  ],
  [
    'multipleOf changed to a non-divisor',
    'BACKWARD',
    [object({ n: { type: 'integer', multipleOf: 2 } })],
    object({ n: { type: 'integer', multipleOf: 3 } }),
    [['MULTIPLE_OF_CHANGED', '/properties/n/multipleOf']],
  ],
  [
    'multipleOf relaxed to a divisor',
    'BACKWARD',
    [object({ n: { type: 'integer', multipleOf: 4 } })],
    object({ n: { type: 'integer', multipleOf: 2 } }),
    [],
  ],
  [
    'array items narrowed',
    'BACKWARD',
    [object({ codes: { type: 'array', items: { type: ['string', 'integer'] } } })],
    object({ codes: { type: 'array', items: { type: 'string' } } }),
    [['TYPE_NARROWED', '/properties/codes/items/type']],
  ],
  [
    'a union branch removed',
    'BACKWARD',
    [object({ v: { oneOf: [{ type: 'string' }, { type: 'integer' }] } })],
    object({ v: { oneOf: [{ type: 'string' }] } }),
    [['SUM_TYPE_NARROWED', '/properties/v/oneOf']],
  ],
  [
    'a union branch added',
    'BACKWARD',
    [object({ v: { oneOf: [{ type: 'string' }] } })],
    object({ v: { oneOf: [{ type: 'string' }, { type: 'integer' }] } }),
    [],
  ],
  [
    'a type turned into a union containing it',
    'BACKWARD',
    [object({ v: { type: 'string' } })],
    object({ v: { anyOf: [{ type: 'string' }, { type: 'null' }] } }),
    [],
  ],
  [
    'a $ref target narrowed',
    'BACKWARD',
    [object({ a: { $ref: '#/$defs/Code' } }, { $defs: { Code: { type: 'string' } } })],
    object({ a: { $ref: '#/$defs/Code' } }, { $defs: { Code: { type: 'string', maxLength: 4 } } }),
    [['MAX_LENGTH_ADDED', '/properties/a/maxLength']],
  ],
  [
    'transitive: an older version still counts',
    'BACKWARD_TRANSITIVE',
    [object({ n: { type: ['string', 'null'] } }), object({ n: { type: 'string' } })],
    object({ n: { type: 'string' } }),
    [['TYPE_NARROWED', '/properties/n/type']],
  ],
  [
    'not transitive: only the latest counts',
    'BACKWARD',
    [object({ n: { type: ['string', 'null'] } }), object({ n: { type: 'string' } })],
    object({ n: { type: 'string' } }),
    [],
  ],
];

describe('JSON Schema compatibility', () => {
  it.each([...contentModelCases, ...keywordCases])(
    '%s (%s)',
    (_case, level, earlier, candidate, expected) => {
      const versions = earlier.map((schema, index) => ({ version: index + 1, parsed: parse(schema) }));
      const issues = compatibilityIncompatibilities(parse(candidate), versions, level);
      expect(issues.map((issue) => [issue.rule, issue.path])).toEqual(expected);
    },
  );

  it('explains the refusal: what changed, which rule, where, against which version and direction', () => {
    const versions = [{ version: 3, parsed: parse(object(name)) }];
    const issues = compatibilityIncompatibilities(parse(object(withEmail)), versions, 'FULL');
    expect(issues).toEqual([
      {
        rule: 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
        path: '/properties/email',
        message: expect.stringContaining(
          "property 'email' was added, but the writer's content model is open",
        ),
        against: { version: 3, direction: 'reads' },
      },
    ]);
  });

  it('follows recursive schemas without looping', () => {
    const tree = (leaf: string) => ({
      $defs: {
        Node: {
          type: 'object',
          properties: { v: { type: leaf }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } },
        },
      },
      $ref: '#/$defs/Node',
    });
    const versions = [{ version: 1, parsed: parse(tree('integer')) }];
    expect(compatibilityIncompatibilities(parse(tree('number')), versions, 'BACKWARD')).toEqual([]);
    const issues = compatibilityIncompatibilities(parse(tree('string')), versions, 'BACKWARD');
    expect(issues.map((issue) => [issue.rule, issue.path])).toEqual([['TYPE_CHANGED', '/properties/v/type']]);
  });

  it('refuses a change of schema type', () => {
    const versions = [{ version: 1, parsed: parseSchema('AVRO', '"string"', [], []) }];
    const issues = compatibilityIncompatibilities(parse({ type: 'string' }), versions, 'BACKWARD');
    expect(issues.map((issue) => issue.rule)).toEqual(['SCHEMA_TYPE_CHANGED']);
  });
});
