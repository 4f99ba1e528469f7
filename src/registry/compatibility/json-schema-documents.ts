import type { Incompatibility } from '../errors.ts';
import { InvalidSchemaError } from '../errors.ts';
import type { JsonSchema } from '../parse-schema.ts';

/** A JSON Schema with the documents its `$ref`s may point into. */
export interface JsonSchemaDocument {
  root: JsonSchema;
  /** Referenced documents by the `$ref` value (before any `#`) that names them. */
  references: ReadonlyMap<string, JsonSchema>;
}

/** A schema node with the document it sits in, so the `$ref`s inside it resolve. */
export interface JsonNode {
  schema: JsonSchema;
  document: JsonSchemaDocument;
}

/** An object schema's keywords (a boolean schema has none). */
export type Keywords = { [keyword: string]: unknown };

/** `true`, `{}` and a missing schema accept every instance. */
export const acceptsAll = (schema: JsonSchema | undefined): boolean =>
  schema === undefined || schema === true || (typeof schema === 'object' && Object.keys(schema).length === 0);

function pointerTarget(root: JsonSchema, pointer: string, ref: string): JsonSchema {
  let target: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    target = target !== null && typeof target === 'object' ? (target as Keywords)[key] : undefined;
  }
  if (target === undefined) throw new InvalidSchemaError(`$ref '${ref}' points at nothing`);
  return target as JsonSchema;
}

/**
 * The node with its `$ref` replaced by what it points at (a local pointer, or a referenced document and a
 * pointer into it); sibling keywords are kept beside the target's.
 */
export function resolveRef(node: JsonNode): JsonNode {
  let current = node;
  for (let depth = 0; depth < 32; depth++) {
    const schema = current.schema;
    if (typeof schema !== 'object' || typeof schema.$ref !== 'string') return current;
    const ref = schema.$ref;
    const hash = ref.indexOf('#');
    const base = hash === -1 ? ref : ref.slice(0, hash);
    const pointer = hash === -1 ? '' : ref.slice(hash + 1);
    let root = current.document.root;
    if (base !== '') {
      const referenced = current.document.references.get(base);
      if (referenced === undefined) throw new InvalidSchemaError(`$ref '${ref}' names no reference`);
      root = referenced;
    }
    const target = pointerTarget(root, pointer, ref);
    const { $ref: _ref, ...siblings } = schema;
    const merged =
      Object.keys(siblings).length === 0 || typeof target !== 'object' ? target : { ...target, ...siblings };
    current = { schema: merged, document: current.document };
  }
  throw new InvalidSchemaError(`$ref chain from '${String((node.schema as Keywords).$ref)}' does not end`);
}

/** `allOf` folded into one schema: types intersected, properties, required and bounds merged (tightest wins). */
export function foldAllOf(schema: Keywords, resolve: (s: JsonSchema) => JsonSchema): Keywords {
  const { allOf, ...rest } = schema;
  if (!Array.isArray(allOf)) return schema;
  let merged: Keywords = rest;
  for (const part of allOf as JsonSchema[]) {
    const branch = resolve(part);
    if (branch === false) return { not: {} };
    if (branch === true) continue;
    merged = mergeKeywords(merged, foldAllOf(branch, resolve));
  }
  return merged;
}

function mergeKeywords(a: Keywords, b: Keywords): Keywords {
  const out: Keywords = { ...a, ...b };
  if (a.properties !== undefined && b.properties !== undefined) {
    out.properties = { ...(a.properties as Keywords), ...(b.properties as Keywords) };
  }
  if (Array.isArray(a.required) && Array.isArray(b.required)) {
    out.required = [...new Set([...(a.required as string[]), ...(b.required as string[])])];
  }
  return out;
}

/** The walk of one reader/writer pair: the incompatibilities found and the pairs being compared. */
export interface JsonWalk {
  out: Incompatibility[];
  /** Reader and writer objects already being compared: recursive schemas end here. */
  seen: Map<object, Set<object>>;
}

/** The recursive steps every keyword check uses: check a pair (recording), or try one (not recording). */
export interface NodeChecker {
  check(reader: JsonNode, writer: JsonNode, path: string, walk: JsonWalk): void;
  trial(reader: JsonNode, writer: JsonNode, path: string, walk: JsonWalk): Incompatibility[];
}
