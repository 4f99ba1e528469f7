import { z } from 'zod';
import { KeelError } from '../errors/keel-error.ts';
import type { Catalog } from '../events/catalog.ts';
import type { EventDefinition } from '../events/define-event.ts';
import { describeIncompatibility, SubjectNotFoundError } from './errors.ts';
import type { SchemaRegistry } from './schema-registry.ts';
import type { CompatibilityLevel, SchemaInput } from './types.ts';

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
 * The schema of each event type's data as its producers write it, under the subject named after the type:
 * its Avro schema when it declares one, else its JSON Schema (zod's output: exactly the declared properties,
 * so a closed content model).
 */
export function catalogSchemas(catalog: Catalog): CatalogSchema[] {
  return catalog.events.map((definition) => ({
    type: definition.type,
    version: definition.version,
    subject: definition.type,
    input: catalogSchemaInput(definition),
  }));
}

/** The schema an event type registers (the same text every time, so a lookup finds its id). */
export function catalogSchemaInput(definition: EventDefinition): SchemaInput {
  // Which defineEvent version this is: the registry's versions are the subject's, not the event's.
  const version = { 'x-keel-version': definition.version };
  if (definition.avro !== undefined) {
    return { schemaType: 'AVRO', schema: JSON.stringify({ ...definition.avro, ...version }) };
  }
  return {
    schemaType: 'JSON',
    schema: JSON.stringify({
      ...z.toJSONSchema(definition.schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' }),
      ...version,
    }),
  };
}

/** What the catalog check asks of a registry (Keel's own, or a node's over HTTP). */
export interface CatalogRegistryView {
  /** Why the subject would refuse the schema under its level, one described incompatibility per line. */
  check(subject: string, input: SchemaInput): Promise<string[]>;
  /** The `defineEvent` version of the subject's latest schema (`x-keel-version`), or undefined. */
  latestKeelVersion(subject: string): Promise<number | undefined>;
}

/** The `defineEvent` version recorded in a registered schema's text. */
export function keelVersionOf(schema: string): number | undefined {
  const version = (JSON.parse(schema) as { 'x-keel-version'?: unknown })['x-keel-version'];
  return typeof version === 'number' ? version : undefined;
}

/**
 * Whether upcasters carry data written at the subject's latest `defineEvent` version up to the definition's:
 * then Keel's consumers read the old data through them, and only the forward direction is checked.
 */
function upcastersCover(definition: EventDefinition, registered: number | undefined): boolean {
  if (registered === undefined || registered >= definition.version) return false;
  return definition.upcasters.some((upcaster) => upcaster.fromVersion === registered);
}

/** The marker of an incompatibility in the backward direction (the new schema reading older data). */
const READS_OLDER = '(the new schema reads data written with it)';

/** Checks every event type of the catalog; returns the refused ones (empty: all compatible). */
export async function checkCatalogSchemas(
  catalog: Catalog,
  registry: CatalogRegistryView,
): Promise<CatalogVerdict[]> {
  const refused: CatalogVerdict[] = [];
  for (const [index, schema] of catalogSchemas(catalog).entries()) {
    const definition = catalog.events[index] as EventDefinition;
    const covered = upcastersCover(definition, await registry.latestKeelVersion(schema.subject));
    const reasons = (await registry.check(schema.subject, schema.input)).filter(
      (reason) => !(covered && reason.includes(READS_OLDER)),
    );
    if (reasons.length > 0)
      refused.push({ type: schema.type, version: schema.version, subject: schema.subject, reasons });
  }
  return refused;
}

/** Keel's own registry, as the catalog check sees it. */
export function localRegistryView(registry: SchemaRegistry): CatalogRegistryView {
  return {
    check: async (subject, input) =>
      (await registry.checkCompatibility(subject, input)).incompatibilities.map(describeIncompatibility),
    latestKeelVersion: async (subject) => {
      try {
        return keelVersionOf((await registry.version(subject, 'latest')).schema);
      } catch (error) {
        if (error instanceof SubjectNotFoundError) return undefined;
        throw error;
      }
    },
  };
}

/** The forward half of a level: what is left to check when upcasters read the older data. */
const forwardHalf: Record<CompatibilityLevel, CompatibilityLevel> = {
  BACKWARD: 'NONE',
  BACKWARD_TRANSITIVE: 'NONE',
  FORWARD: 'FORWARD',
  FORWARD_TRANSITIVE: 'FORWARD_TRANSITIVE',
  FULL: 'FORWARD',
  FULL_TRANSITIVE: 'FORWARD_TRANSITIVE',
  NONE: 'NONE',
};

/**
 * Registers every event type's schema, after checking them all: one incompatible type refuses the lot with
 * CatalogIncompatibleError (the reasons per type) and nothing is registered. A `defineEvent` version step
 * covered by upcasters is checked in the forward direction only (older consumers read the new data), since
 * Keel's consumers read older data through the upcasters.
 */
export async function registerCatalogSchemas(
  registry: SchemaRegistry,
  catalog: Catalog,
): Promise<CatalogRegistration[]> {
  const view = localRegistryView(registry);
  const refused = await checkCatalogSchemas(catalog, view);
  if (refused.length > 0) throw new CatalogIncompatibleError(refused);
  const out: CatalogRegistration[] = [];
  for (const [index, schema] of catalogSchemas(catalog).entries()) {
    const definition = catalog.events[index] as EventDefinition;
    const covered = upcastersCover(definition, await view.latestKeelVersion(schema.subject));
    const level = covered
      ? forwardHalf[(await registry.compatibility(schema.subject)) ?? 'BACKWARD']
      : undefined;
    const registered = await registry.register(
      schema.subject,
      schema.input,
      level === undefined ? {} : { level },
    );
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
