import { InvalidSchemaError } from './errors.ts';
import type { ResolvedReference } from './parse-schema.ts';
import type { RegistryStorage } from './registry-storage.ts';
import type { SchemaReference } from './types.ts';

/**
 * The schemas the references point at, and those their own references point at, dependencies first (the
 * order a parser must see named types in); throws InvalidSchemaError for a reference to nothing.
 */
export async function resolveReferences(
  storage: RegistryStorage,
  references: readonly SchemaReference[],
  path: readonly string[] = [],
): Promise<ResolvedReference[]> {
  const out: ResolvedReference[] = [];
  for (const reference of references) {
    const key = `${reference.subject}/${reference.version}`;
    if (path.includes(key)) throw new InvalidSchemaError(`references form a cycle through ${key}`);
    const versions = await storage.versions(reference.subject, false);
    const target =
      reference.version === -1 ? versions.at(-1) : versions.find((v) => v.version === reference.version);
    if (target === undefined) {
      throw new InvalidSchemaError(
        `reference '${reference.name}' points at subject '${reference.subject}' version ${reference.version}, which does not exist`,
      );
    }
    for (const nested of await resolveReferences(storage, target.references, [...path, key])) {
      if (!out.some((known) => known.name === nested.name)) out.push(nested);
    }
    if (!out.some((known) => known.name === reference.name)) {
      out.push({ name: reference.name, schemaType: target.schemaType, schema: target.schema });
    }
  }
  return out;
}
