import type { StoredVersion } from './registry-storage.ts';
import type { SchemaReference, SchemaType } from './types.ts';

/** The columns both adapters select for a version (with its schema). */
export const versionColumns =
  'v.subject, v.version, v.deleted, s.id, s.fingerprint, s.schema_type, s.schema, s.refs';

/** A version row of either adapter as the port returns it. */
export function toStoredVersion(row: Record<string, unknown>): StoredVersion {
  return {
    subject: String(row.subject),
    version: Number(row.version),
    deleted: row.deleted === true || Number(row.deleted) === 1,
    id: Number(row.id),
    fingerprint: String(row.fingerprint),
    schemaType: String(row.schema_type) as SchemaType,
    schema: String(row.schema),
    references: JSON.parse(String(row.refs)) as SchemaReference[],
  };
}
