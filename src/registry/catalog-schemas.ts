import { z } from 'zod';
import { KeelError } from '../errors/keel-error.ts';
import type { Catalog } from '../events/catalog.ts';
import { describeIncompatibility } from './errors.ts';
import type { SchemaRegistry } from './schema-registry.ts';
import type { SchemaInput } from './types.ts';

/** One event type of the catalog as the registry sees it: subject = type, schema = its data's JSON Schema. */
export interface CatalogSchema {
  type: string;
  /** The `defineEvent` version. */
  version: number;
  subject: string;
  input: SchemaInput;
}

/** The verdict on one event type: the reasons it is refused, none when it is compatible. */
export interface CatalogVerdict {
  type: string;
  version: number;
  subject: string;
  /** Each broken rule, as a line naming the version, rule and path. */
  reasons: string[];
}

/** One event type registered: the registry's id and version for the `defineEvent` version. */
export interface CatalogRegistration {
  type: string;
  version: number;
  subject: string;
  id: number;
  registryVersion: number;
}

/** Event types whose schema breaks their subject's compatibility level; nothing was registered. */
export class CatalogIncompatibleError extends KeelError {
  readonly code = 'KEEL_REGISTRY_CATALOG_INCOMPATIBLE';
  readonly refused: readonly CatalogVerdict[];

  constructor(refused: readonly CatalogVerdict[]) {
    super(
      `the catalog's schemas are incompatible with the registry, nothing was registered: ${refused
        .map((v) => `${v.type} (defineEvent version ${v.version}): ${v.reasons.join('; ')}`)
        .join(' | ')}`,
    );
    this.refused = refused;
  }
}

/**
 * The JSON Schema of each event type's data as its producers write it (zod's output: exactly the declared
 * properties, so a closed content model), under the subject named after the type.
 */
export function catalogSchemas(catalog: Catalog): CatalogSchema[] {
  return catalog.events.map((definition) => ({
    type: definition.type,
    version: definition.version,
    subject: definition.type,
    input: {
      schemaType: 'JSON',
      schema: JSON.stringify({
        ...z.toJSONSchema(definition.schema, {
          target: 'draft-2020-12',
          io: 'output',
          unrepresentable: 'any',
        }),
        // Which defineEvent version this is: the registry's versions are the subject's, not the event's.
        'x-keel-version': definition.version,
      }),
    },
  }));
}

/** Checks how a subject would take a schema: the reasons it would be refused (none: compatible). */
export type CompatibilityCheck = (subject: string, input: SchemaInput) => Promise<string[]>;

/** Checks every event type of the catalog; returns the refused ones (empty: all compatible). */
export async function checkCatalogSchemas(
  catalog: Catalog,
  check: CompatibilityCheck,
): Promise<CatalogVerdict[]> {
  const refused: CatalogVerdict[] = [];
  for (const schema of catalogSchemas(catalog)) {
    const reasons = await check(schema.subject, schema.input);
    if (reasons.length > 0)
      refused.push({ type: schema.type, version: schema.version, subject: schema.subject, reasons });
  }
  return refused;
}

/** The registry's own check, as the catalog check takes it. */
export function registryCheck(registry: SchemaRegistry): CompatibilityCheck {
  return async (subject, input) =>
    (await registry.checkCompatibility(subject, input)).incompatibilities.map(describeIncompatibility);
}

/**
 * Registers every event type's schema, after checking them all: one incompatible type refuses the lot with
 * CatalogIncompatibleError (the reasons per type) and nothing is registered.
 */
export async function registerCatalogSchemas(
  registry: SchemaRegistry,
  catalog: Catalog,
): Promise<CatalogRegistration[]> {
  const refused = await checkCatalogSchemas(catalog, registryCheck(registry));
  if (refused.length > 0) throw new CatalogIncompatibleError(refused);
  const out: CatalogRegistration[] = [];
  for (const schema of catalogSchemas(catalog)) {
    const registered = await registry.register(schema.subject, schema.input);
    out.push({
      type: schema.type,
      version: schema.version,
      subject: schema.subject,
      id: registered.id,
      registryVersion: registered.version,
    });
  }
  return out;
}
