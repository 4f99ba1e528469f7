import type { JsonSchema } from '../parse-schema.ts';
import type { JsonWalk, NodeChecker } from './json-schema-documents.ts';
import { acceptsAll, type JsonNode, type Keywords } from './json-schema-documents.ts';

/** An upper bound (the reader's must be ≥ the writer's) or a lower one (≤), the types it applies to and its rule prefix. */
interface Bound {
  keyword: string;
  upper: boolean;
  types: readonly string[];
  rule: string;
}

const bounds: readonly Bound[] = [
  { keyword: 'maximum', upper: true, types: ['number', 'integer'], rule: 'MAXIMUM' },
  { keyword: 'exclusiveMaximum', upper: true, types: ['number', 'integer'], rule: 'EXCLUSIVE_MAXIMUM' },
  { keyword: 'minimum', upper: false, types: ['number', 'integer'], rule: 'MINIMUM' },
  { keyword: 'exclusiveMinimum', upper: false, types: ['number', 'integer'], rule: 'EXCLUSIVE_MINIMUM' },
  { keyword: 'maxLength', upper: true, types: ['string'], rule: 'MAX_LENGTH' },
  { keyword: 'minLength', upper: false, types: ['string'], rule: 'MIN_LENGTH' },
  { keyword: 'maxItems', upper: true, types: ['array'], rule: 'MAX_ITEMS' },
  { keyword: 'minItems', upper: false, types: ['array'], rule: 'MIN_ITEMS' },
  { keyword: 'maxProperties', upper: true, types: ['object'], rule: 'MAX_PROPERTIES' },
  { keyword: 'minProperties', upper: false, types: ['object'], rule: 'MIN_PROPERTIES' },
];

/** Numeric and length limits, `multipleOf`, `pattern` and `uniqueItems`: the reader's may not be tighter. */
export function checkBounds(
  r: Keywords,
  w: Keywords,
  types: readonly string[],
  path: string,
  walk: JsonWalk,
): void {
  for (const bound of bounds) {
    if (!bound.types.some((t) => types.includes(t))) continue;
    const readerLimit = r[bound.keyword];
    if (typeof readerLimit !== 'number') continue;
    const writerLimit = w[bound.keyword];
    const where = `${path}/${bound.keyword}`;
    if (typeof writerLimit !== 'number') {
      walk.out.push({
        rule: `${bound.rule}_ADDED`,
        path: where,
        message: `the reader adds ${bound.keyword} ${readerLimit}; the writer's schema had none`,
      });
    } else if (bound.upper ? readerLimit < writerLimit : readerLimit > writerLimit) {
      walk.out.push({
        rule: `${bound.rule}_${bound.upper ? 'DECREASED' : 'INCREASED'}`,
        path: where,
        message: `${bound.keyword} is ${readerLimit} in the reader and ${writerLimit} in the writer`,
      });
    }
  }
  if (types.some((t) => t === 'number' || t === 'integer')) checkMultipleOf(r, w, path, walk);
  if (types.includes('string') && typeof r.pattern === 'string' && r.pattern !== w.pattern) {
    walk.out.push({
      rule: w.pattern === undefined ? 'PATTERN_ADDED' : 'PATTERN_CHANGED',
      path: `${path}/pattern`,
      message: `the reader requires /${r.pattern}/${w.pattern === undefined ? '' : ` where the writer required /${String(w.pattern)}/`}`,
    });
  }
  if (types.includes('array') && r.uniqueItems === true && w.uniqueItems !== true) {
    walk.out.push({
      rule: 'UNIQUE_ITEMS_ADDED',
      path: `${path}/uniqueItems`,
      message: 'the reader requires unique items; the writer did not',
    });
  }
}

function checkMultipleOf(r: Keywords, w: Keywords, path: string, walk: JsonWalk): void {
  if (typeof r.multipleOf !== 'number') return;
  if (typeof w.multipleOf !== 'number') {
    walk.out.push({
      rule: 'MULTIPLE_OF_ADDED',
      path: `${path}/multipleOf`,
      message: `the reader requires multiples of ${r.multipleOf}`,
    });
  } else if (!Number.isInteger(w.multipleOf / r.multipleOf)) {
    walk.out.push({
      rule: 'MULTIPLE_OF_CHANGED',
      path: `${path}/multipleOf`,
      message: `multiples of ${w.multipleOf} (writer) are not all multiples of ${r.multipleOf} (reader)`,
    });
  }
}

/** The schema an object gives a property it does not declare: a matching `patternProperties`, else `additionalProperties`. */
function undeclared(schema: Keywords, property: string): JsonSchema {
  const patterns = (schema.patternProperties ?? {}) as Record<string, JsonSchema>;
  for (const [pattern, value] of Object.entries(patterns)) {
    if (new RegExp(pattern, 'u').test(property)) return value;
  }
  return (schema.additionalProperties as JsonSchema | undefined) ?? true;
}

/** `required`, `properties` and `additionalProperties`, with Confluent's open and closed content models. */
export function checkObject(
  reader: JsonNode,
  writer: JsonNode,
  path: string,
  walk: JsonWalk,
  nodes: NodeChecker,
): void {
  const r = reader.schema as Keywords;
  const w = writer.schema as Keywords;
  const writerRequired = new Set((w.required ?? []) as string[]);
  for (const name of (r.required ?? []) as string[]) {
    if (writerRequired.has(name)) continue;
    walk.out.push({
      rule: 'REQUIRED_PROPERTY_ADDED',
      path: `${path}/required`,
      message: `property '${name}' is required by the reader but not by the writer: data without it is refused`,
    });
  }
  const readerProperties = (r.properties ?? {}) as Record<string, JsonSchema>;
  const writerProperties = (w.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, schema] of Object.entries(readerProperties)) {
    const where = `${path}/properties/${name}`;
    if (name in writerProperties) {
      nodes.check(
        { schema, document: reader.document },
        { schema: writerProperties[name] as JsonSchema, document: writer.document },
        where,
        walk,
      );
      continue;
    }
    const written = undeclared(w, name);
    if (written === false) continue;
    const issues = nodes.trial(
      { schema, document: reader.document },
      { schema: written, document: writer.document },
      where,
      walk,
    );
    if (issues.length === 0) continue;
    walk.out.push({
      rule: acceptsAll(written)
        ? 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL'
        : 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
      path: where,
      message: `property '${name}' was added, but the writer's content model is open and may have written '${name}' with any value (${issues[0]?.message}); close the writer's model (additionalProperties: false) or keep the new property as wide`,
    });
  }
  for (const [name, schema] of Object.entries(writerProperties)) {
    if (name in readerProperties) continue;
    const readable = undeclared(r, name);
    const where = `${path}/properties/${name}`;
    if (readable === false) {
      walk.out.push({
        rule: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
        path: where,
        message: `property '${name}' was removed, and the reader's additionalProperties is false: data that has it is refused`,
      });
      continue;
    }
    const issues = nodes.trial(
      { schema: readable, document: reader.document },
      { schema, document: writer.document },
      where,
      walk,
    );
    if (issues.length > 0) {
      walk.out.push({
        rule: 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
        path: where,
        message: `property '${name}' was removed, and what the reader allows for undeclared properties refuses its values (${issues[0]?.message})`,
      });
    }
  }
  checkAdditional(reader, writer, path, walk, nodes);
}

function checkAdditional(
  reader: JsonNode,
  writer: JsonNode,
  path: string,
  walk: JsonWalk,
  nodes: NodeChecker,
): void {
  const readerExtra = ((reader.schema as Keywords).additionalProperties ?? true) as JsonSchema;
  const writerExtra = ((writer.schema as Keywords).additionalProperties ?? true) as JsonSchema;
  if (writerExtra === false || acceptsAll(readerExtra)) return;
  if (readerExtra === false) {
    walk.out.push({
      rule: 'ADDITIONAL_PROPERTIES_REMOVED',
      path: `${path}/additionalProperties`,
      message:
        "the reader closes the content model (additionalProperties: false); the writer's allowed undeclared properties",
    });
    return;
  }
  nodes.check(
    { schema: readerExtra, document: reader.document },
    { schema: writerExtra, document: writer.document },
    `${path}/additionalProperties`,
    walk,
  );
}

/** `items` (one schema for every item, or a tuple). */
export function checkArray(
  reader: JsonNode,
  writer: JsonNode,
  path: string,
  walk: JsonWalk,
  nodes: NodeChecker,
): void {
  const r = reader.schema as Keywords;
  const w = writer.schema as Keywords;
  const readerItems = (r.prefixItems ?? r.items ?? true) as JsonSchema | JsonSchema[];
  const writerItems = (w.prefixItems ?? w.items ?? true) as JsonSchema | JsonSchema[];
  if (!Array.isArray(readerItems) && !Array.isArray(writerItems)) {
    nodes.check(
      { schema: readerItems, document: reader.document },
      { schema: writerItems, document: writer.document },
      `${path}/items`,
      walk,
    );
    return;
  }
  const readerTuple = Array.isArray(readerItems) ? readerItems : [];
  const writerTuple = Array.isArray(writerItems) ? writerItems : [];
  const length = Math.max(readerTuple.length, writerTuple.length);
  for (let index = 0; index < length; index++) {
    const readerItem = Array.isArray(readerItems) ? (readerItems[index] ?? true) : readerItems;
    const writerItem = Array.isArray(writerItems) ? (writerItems[index] ?? true) : writerItems;
    nodes.check(
      { schema: readerItem, document: reader.document },
      { schema: writerItem, document: writer.document },
      `${path}/items/${index}`,
      walk,
    );
  }
}
