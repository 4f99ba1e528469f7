import type { Incompatibility } from '../errors.ts';
import type { JsonSchema } from '../parse-schema.ts';
import { stableStringify } from '../parse-schema.ts';
import {
  acceptsAll,
  foldAllOf,
  type JsonNode,
  type JsonSchemaDocument,
  type JsonWalk,
  type Keywords,
  type NodeChecker,
  resolveRef,
} from './json-schema-documents.ts';
import { checkArray, checkBounds, checkObject } from './json-schema-keywords.ts';

const allTypes = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];

/**
 * Why `reader` rejects some instance `writer` accepts — what makes a newer schema unable to read older data
 * (BACKWARD) or the reverse — following Confluent's JSON Schema rules (their names for the rules); empty when
 * every instance valid under the writer is valid under the reader. Paths point into the reader schema.
 */
export function jsonSchemaIncompatibilities(
  reader: JsonSchemaDocument,
  writer: JsonSchemaDocument,
): Incompatibility[] {
  const walk: JsonWalk = { out: [], seen: new Map() };
  checkNode({ schema: reader.root, document: reader }, { schema: writer.root, document: writer }, '', walk);
  return walk.out;
}

/** The instance types a schema allows (`integer` is within `number`); undefined: any. */
export function typesOf(schema: Keywords): string[] | undefined {
  if (schema.type === undefined) return undefined;
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  return types.includes('number') ? [...new Set([...types, 'integer'])] : types;
}

function firstVisit(reader: object, writer: object, walk: JsonWalk): boolean {
  const writers = walk.seen.get(reader) ?? new Set<object>();
  if (writers.has(writer)) return false;
  writers.add(writer);
  walk.seen.set(reader, writers);
  return true;
}

/** Incompatibilities of one pair, found without recording them (to try union branches). */
function trial(reader: JsonNode, writer: JsonNode, path: string, walk: JsonWalk): Incompatibility[] {
  const attempt: JsonWalk = { out: [], seen: new Map([...walk.seen].map(([k, v]) => [k, new Set(v)])) };
  checkNode(reader, writer, path, attempt);
  return attempt.out;
}

function checkNode(readerIn: JsonNode, writerIn: JsonNode, path: string, walk: JsonWalk): void {
  const reader = resolveRef(readerIn);
  const writer = resolveRef(writerIn);
  if (writer.schema === false || acceptsAll(reader.schema)) return;
  if (reader.schema === false) {
    walk.out.push({ rule: 'SCHEMA_NARROWED_TO_FALSE', path, message: 'the reader accepts nothing here' });
    return;
  }
  const r = foldAllOf(
    reader.schema as Keywords,
    (s) => resolveRef({ schema: s, document: reader.document }).schema,
  );
  const w =
    writer.schema === true
      ? {}
      : foldAllOf(writer.schema, (s) => resolveRef({ schema: s, document: writer.document }).schema);
  if (!firstVisit(r, w, walk)) return;
  if (
    checkSums({ schema: r, document: reader.document }, { schema: w, document: writer.document }, path, walk)
  ) {
    return;
  }
  checkNot(r, w, path, walk);
  const types = checkTypes(r, w, path, walk);
  if (types.length === 0) return;
  checkEnum(r, w, path, walk);
  checkBounds(r, w, types, path, walk);
  const nodes = {
    reader: { schema: r, document: reader.document },
    writer: { schema: w, document: writer.document },
  };
  if (types.includes('object')) checkObject(nodes.reader, nodes.writer, path, walk, checker);
  if (types.includes('array')) checkArray(nodes.reader, nodes.writer, path, walk, checker);
}

const checker: NodeChecker = { check: checkNode, trial };

/** `anyOf`/`oneOf`: every writer branch must be read by some reader branch. True when it handled the pair. */
function checkSums(reader: JsonNode, writer: JsonNode, path: string, walk: JsonWalk): boolean {
  const w = writer.schema as Keywords;
  const r = reader.schema as Keywords;
  const writerSum = (w.anyOf ?? w.oneOf) as JsonSchema[] | undefined;
  if (writerSum !== undefined) {
    const { anyOf: _a, oneOf: _o, ...rest } = w;
    for (const branch of writerSum) {
      const merged = typeof branch === 'object' ? { ...rest, ...branch } : branch;
      checkNode(reader, { schema: merged, document: writer.document }, path, walk);
    }
    return true;
  }
  const keyword = r.anyOf !== undefined ? 'anyOf' : r.oneOf !== undefined ? 'oneOf' : undefined;
  if (keyword === undefined) return false;
  const { anyOf: _a, oneOf: _o, ...rest } = r;
  const branches = r[keyword] as JsonSchema[];
  const readable = branches.some(
    (branch, index) =>
      trial(
        { schema: typeof branch === 'object' ? { ...rest, ...branch } : branch, document: reader.document },
        writer,
        `${path}/${keyword}/${index}`,
        walk,
      ).length === 0,
  );
  if (!readable) {
    walk.out.push({
      rule: 'SUM_TYPE_NARROWED',
      path: `${path}/${keyword}`,
      message: `no branch of the reader's ${keyword} accepts everything the writer's schema here accepts`,
    });
  }
  return true;
}

function checkNot(r: Keywords, w: Keywords, path: string, walk: JsonWalk): void {
  if (r.not === undefined || stableStringify(r.not) === stableStringify(w.not)) return;
  walk.out.push({
    rule: w.not === undefined ? 'NOT_TYPE_ADDED' : 'NOT_TYPE_CHANGED',
    path: `${path}/not`,
    message: "the reader's 'not' excludes values the writer's schema may accept",
  });
}

/** Reports writer types the reader refuses; returns the types both accept (the ones to compare further). */
function checkTypes(r: Keywords, w: Keywords, path: string, walk: JsonWalk): string[] {
  const readerTypes = typesOf(r) ?? allTypes;
  const writerTypes = typesOf(w) ?? allTypes;
  const lost = writerTypes.filter((t) => !readerTypes.includes(t));
  if (lost.length > 0) {
    const narrowed = readerTypes.every((t) => writerTypes.includes(t));
    walk.out.push({
      rule: narrowed ? 'TYPE_NARROWED' : 'TYPE_CHANGED',
      path: `${path}/type`,
      message: `the writer may write ${lost.join(', ')}; the reader accepts only ${(typesOf(r) ?? []).join(', ')}`,
    });
  }
  return writerTypes.filter((t) => readerTypes.includes(t));
}

function enumOf(schema: Keywords): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  return schema.const !== undefined ? [schema.const] : undefined;
}

function checkEnum(r: Keywords, w: Keywords, path: string, walk: JsonWalk): void {
  const readerValues = enumOf(r);
  if (readerValues === undefined) return;
  const writerValues = enumOf(w);
  if (writerValues === undefined) {
    walk.out.push({
      rule: 'ENUM_ARRAY_NARROWED',
      path: `${path}/${r.enum !== undefined ? 'enum' : 'const'}`,
      message: `the reader accepts only ${JSON.stringify(readerValues)}; the writer's schema has no such limit`,
    });
    return;
  }
  const allowed = new Set(readerValues.map(stableStringify));
  const missing = writerValues.filter((v) => !allowed.has(stableStringify(v)));
  if (missing.length > 0) {
    walk.out.push({
      rule: 'ENUM_ARRAY_NARROWED',
      path: `${path}/${r.enum !== undefined ? 'enum' : 'const'}`,
      message: `the writer may write ${missing.map((v) => JSON.stringify(v)).join(', ')}, which the reader does not accept`,
    });
  }
}
