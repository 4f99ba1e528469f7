import type { Incompatibility } from '../errors.ts';
import type { ParsedSchema } from '../parse-schema.ts';
import type { CompatibilityLevel } from '../types.ts';
import { avroIncompatibilities } from './avro-compatibility.ts';
import { jsonSchemaIncompatibilities } from './json-schema-compatibility.ts';

/** An earlier version of the subject, parsed. */
export interface EarlierVersion {
  version: number;
  parsed: ParsedSchema;
}

/** Why `reader` cannot read what `writer` wrote; empty when it can. */
export function readIncompatibilities(reader: ParsedSchema, writer: ParsedSchema): Incompatibility[] {
  if (reader.schemaType !== writer.schemaType) {
    return [
      {
        rule: 'SCHEMA_TYPE_CHANGED',
        path: '',
        message: `the schema type changed from ${writer.schemaType} to ${reader.schemaType}`,
      },
    ];
  }
  if (reader.avro !== undefined && writer.avro !== undefined)
    return avroIncompatibilities(reader.avro, writer.avro);
  if (reader.json !== undefined && writer.json !== undefined) {
    return jsonSchemaIncompatibilities(reader.json, writer.json);
  }
  return [];
}

/**
 * Every reason `candidate` breaks `level` against the subject's live versions (oldest first): BACKWARD checks
 * that the candidate reads data written with earlier versions, FORWARD that earlier versions read the
 * candidate's data, FULL both; the transitive levels check every version, the others the latest only.
 */
export function compatibilityIncompatibilities(
  candidate: ParsedSchema,
  earlier: readonly EarlierVersion[],
  level: CompatibilityLevel,
): Incompatibility[] {
  if (level === 'NONE' || earlier.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? earlier : earlier.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const out: Incompatibility[] = [];
  // Newest first: the latest version's reasons are the ones a user fixes first.
  for (const previous of [...against].reverse()) {
    if (backward) {
      for (const issue of readIncompatibilities(candidate, previous.parsed)) {
        out.push({ ...issue, against: { version: previous.version, direction: 'reads' } });
      }
    }
    if (forward) {
      for (const issue of readIncompatibilities(previous.parsed, candidate)) {
        out.push({ ...issue, against: { version: previous.version, direction: 'is read by' } });
      }
    }
  }
  return out;
}
