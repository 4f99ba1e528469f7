import { createHash } from 'node:crypto';
import { Ajv, type AnySchema } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import avro from 'avsc';
import { InvalidSchemaError } from './errors.ts';
import type { SchemaReference, SchemaType } from './types.ts';

/** A referenced schema, resolved: what its reference names it, and its text. */
export interface ResolvedReference {
  /** The reference's `name` (Avro full name, or the `$ref` that stands for a JSON Schema document). */
  name: string;
  schemaType: SchemaType;
  schema: string;
}

/** A schema that parsed: its compact text, the fingerprint that gives it its global id, and its parsed form. */
export interface ParsedSchema {
  schemaType: SchemaType;
  /** Compact JSON of the schema as given. */
  text: string;
  /** SHA-256 (hex) of the type, the schema with sorted keys and its references: equal schemas, equal ids. */
  fingerprint: string;
  /** The Avro type, references resolved (Avro only). */
  avro?: avro.Type;
  /** The JSON Schema document and the referenced documents by `$ref` name (JSON Schema only). */
  json?: { root: JsonSchema; references: ReadonlyMap<string, JsonSchema> };
}

/** A JSON Schema: an object of keywords, or `true`/`false`. */
export type JsonSchema = boolean | { [keyword: string]: unknown };

/** JSON with object keys sorted, so key order does not make two schemas different. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidSchemaError(`${what} is not JSON (${(error as Error).message})`, { cause: error });
  }
}

/** Parses an Avro schema with its references' named types (dependencies first); throws InvalidSchemaError. */
export function parseAvro(text: string, references: readonly ResolvedReference[] = []): avro.Type {
  const registry: Record<string, avro.Type> = {};
  for (const reference of references) {
    try {
      avro.Type.forSchema(parseJsonText(reference.schema, `reference '${reference.name}'`) as avro.Schema, {
        registry,
      });
    } catch (error) {
      if (error instanceof InvalidSchemaError) throw error;
      throw new InvalidSchemaError(`reference '${reference.name}': ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  try {
    return avro.Type.forSchema(parseJsonText(text, 'the schema') as avro.Schema, { registry });
  } catch (error) {
    if (error instanceof InvalidSchemaError) throw error;
    throw new InvalidSchemaError(`not a valid Avro schema: ${(error as Error).message}`, { cause: error });
  }
}

const draft2019 = 'https://json-schema.org/draft/2019-09/schema';
const draft2020 = 'https://json-schema.org/draft/2020-12/schema';

function metaValidator(document: JsonSchema): Ajv {
  const dialect = typeof document === 'object' ? document.$schema : undefined;
  if (dialect === undefined || /draft-0[67]\/schema#?$/.test(String(dialect)))
    return new Ajv({ strict: false });
  if (String(dialect).startsWith(draft2019)) return new Ajv2019({ strict: false });
  if (String(dialect).startsWith(draft2020)) return new Ajv2020({ strict: false });
  throw new InvalidSchemaError(
    `$schema '${String(dialect)}' is not supported; use draft-06, draft-07, 2019-09 or 2020-12`,
  );
}

/** Parses a JSON Schema document and checks it against its dialect's meta-schema; throws InvalidSchemaError. */
export function parseJsonSchema(text: string, what = 'the schema'): JsonSchema {
  const document = parseJsonText(text, what);
  if (
    typeof document !== 'boolean' &&
    (document === null || typeof document !== 'object' || Array.isArray(document))
  ) {
    throw new InvalidSchemaError(`${what} is not a JSON Schema (expected an object or a boolean)`);
  }
  const ajv = metaValidator(document as JsonSchema);
  if (ajv.validateSchema(document as AnySchema) !== true) {
    const issues = (ajv.errors ?? []).map(
      (e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message}`,
    );
    throw new InvalidSchemaError(`${what} breaks the JSON Schema meta-schema: ${issues.join('; ')}`);
  }
  return document as JsonSchema;
}

/** Parses and fingerprints a schema of either type; nothing about it is stored. */
export function parseSchema(
  schemaType: SchemaType,
  text: string,
  references: readonly SchemaReference[],
  resolved: readonly ResolvedReference[],
): ParsedSchema {
  const document = parseJsonText(text, 'the schema');
  const fingerprint = createHash('sha256')
    .update(`${schemaType}\n${stableStringify(document)}\n${stableStringify(references)}`)
    .digest('hex');
  const compact = JSON.stringify(document);
  if (schemaType === 'AVRO') {
    return { schemaType, text: compact, fingerprint, avro: parseAvro(text, resolved) };
  }
  const referenced = new Map<string, JsonSchema>();
  for (const reference of resolved) {
    referenced.set(reference.name, parseJsonSchema(reference.schema, `reference '${reference.name}'`));
  }
  return {
    schemaType,
    text: compact,
    fingerprint,
    json: { root: parseJsonSchema(text), references: referenced },
  };
}
