import type avro from 'avsc';
import type { Incompatibility } from '../errors.ts';

// Avro's schema resolution (specification, "Schema Resolution"): which writer types a reader type reads.
const promotions: Readonly<Record<string, readonly string[]>> = {
  long: ['int'],
  float: ['int', 'long'],
  double: ['int', 'long', 'float'],
  string: ['bytes'],
  bytes: ['string'],
};

type AvroType = avro.Type & {
  types?: avro.Type[];
  fields?: avro.types.Field[];
  symbols?: string[];
  default?: string;
  size?: number;
  itemsType?: avro.Type;
  valuesType?: avro.Type;
};

interface Walk {
  out: Incompatibility[];
  /** Record pairs already being compared: recursive types end here. */
  seen: Set<string>;
}

const isUnion = (type: avro.Type): boolean => type.typeName.startsWith('union');
const shortName = (name: string | undefined): string => (name ?? '').split('.').at(-1) ?? '';
const describe = (type: avro.Type): string =>
  type.name === undefined ? type.typeName : `${type.typeName} ${type.name}`;

/**
 * Why `reader` cannot read data written with `writer`, by Avro's resolution rules (the rules' names are those of
 * Avro's own `SchemaCompatibility`); empty when it can. Paths point into the reader schema.
 */
export function avroIncompatibilities(reader: avro.Type, writer: avro.Type): Incompatibility[] {
  const walk: Walk = { out: [], seen: new Set() };
  check(reader as AvroType, writer as AvroType, '', walk);
  return walk.out;
}

function check(reader: AvroType, writer: AvroType, path: string, walk: Walk): void {
  if (isUnion(writer)) {
    // Every branch the writer may have written must be readable.
    for (const branch of writer.types ?? []) check(reader, branch as AvroType, path, walk);
    return;
  }
  if (isUnion(reader)) {
    const readable = (reader.types ?? []).some(
      (branch) => issuesOf(branch as AvroType, writer, path, walk).length === 0,
    );
    if (!readable) {
      walk.out.push({
        rule: 'MISSING_UNION_BRANCH',
        path,
        message: `the reader's union [${(reader.types ?? []).map(describe).join(', ')}] has no branch that reads the writer's ${describe(writer)}`,
      });
    }
    return;
  }
  if (reader.typeName !== writer.typeName) {
    if (!(promotions[reader.typeName] ?? []).includes(writer.typeName)) {
      walk.out.push({
        rule: 'TYPE_MISMATCH',
        path,
        message: `the reader expects ${describe(reader)} where the writer wrote ${describe(writer)}`,
      });
    }
    return;
  }
  checkSameKind(reader, writer, path, walk);
}

function issuesOf(reader: AvroType, writer: AvroType, path: string, walk: Walk): Incompatibility[] {
  const trial: Walk = { out: [], seen: new Set(walk.seen) };
  check(reader, writer, path, trial);
  return trial.out;
}

function checkSameKind(reader: AvroType, writer: AvroType, path: string, walk: Walk): void {
  const kind = reader.typeName;
  if (kind === 'record' || kind === 'error') checkRecord(reader, writer, path, walk);
  else if (kind === 'enum') checkEnum(reader, writer, path, walk);
  else if (kind === 'fixed') checkFixed(reader, writer, path, walk);
  else if (kind === 'array')
    check(reader.itemsType as AvroType, writer.itemsType as AvroType, `${path}/items`, walk);
  else if (kind === 'map')
    check(reader.valuesType as AvroType, writer.valuesType as AvroType, `${path}/values`, walk);
}

function checkFixed(reader: AvroType, writer: AvroType, path: string, walk: Walk): void {
  if (!namesMatch(reader, writer, path, walk) || reader.size === writer.size) return;
  walk.out.push({
    rule: 'FIXED_SIZE_MISMATCH',
    path: `${path}/size`,
    message: `fixed ${reader.name} is ${reader.size} bytes in the reader and ${writer.size} in the writer`,
  });
}

function namesMatch(reader: AvroType, writer: AvroType, path: string, walk: Walk): boolean {
  if (shortName(reader.name) === shortName(writer.name)) return true;
  if ((reader.aliases ?? []).includes(writer.name ?? '')) return true;
  walk.out.push({
    rule: 'NAME_MISMATCH',
    path: `${path}/name`,
    message: `the reader's ${reader.typeName} is named ${reader.name}, the writer's ${writer.name} (and no alias of the reader's names it)`,
  });
  return false;
}

function checkRecord(reader: AvroType, writer: AvroType, path: string, walk: Walk): void {
  if (!namesMatch(reader, writer, path, walk)) return;
  const pair = `${reader.name}\u0000${writer.name}`;
  if (walk.seen.has(pair)) return;
  walk.seen.add(pair);
  const writerFields = writer.fields ?? [];
  (reader.fields ?? []).forEach((field, index) => {
    const names = [field.name, ...(field.aliases ?? [])];
    const written = writerFields.find((candidate) => names.includes(candidate.name));
    const fieldPath = `${path}/fields/${index}`;
    if (written !== undefined) {
      check(field.type as AvroType, written.type as AvroType, `${fieldPath}/type`, walk);
    } else if (field.defaultValue() === undefined) {
      walk.out.push({
        rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
        path: fieldPath,
        message: `field '${field.name}' of ${reader.name} has no default, and the writer's ${writer.name} has no such field to read it from`,
      });
    }
  });
}

function checkEnum(reader: AvroType, writer: AvroType, path: string, walk: Walk): void {
  if (!namesMatch(reader, writer, path, walk)) return;
  if (reader.default !== undefined) return;
  const missing = (writer.symbols ?? []).filter((symbol) => !(reader.symbols ?? []).includes(symbol));
  if (missing.length > 0) {
    walk.out.push({
      rule: 'MISSING_ENUM_SYMBOLS',
      path: `${path}/symbols`,
      message: `enum ${reader.name} lacks the writer's symbol${missing.length > 1 ? 's' : ''} ${missing.join(', ')} and has no default`,
    });
  }
}
