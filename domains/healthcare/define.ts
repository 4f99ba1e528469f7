import { z } from 'zod';
import { defineEvent, type EventDefinition, type EventSpec } from '../../src/index.ts';

/** An event type of the pack: Keel's event spec plus one example payload, required. */
export interface HealthcareEventSpec<Schema extends z.ZodType> extends EventSpec<Schema> {
  /** A realistic payload of the current version (synthetic, never real patient data). */
  example: z.input<Schema>;
  /** One-line description; required in the pack. */
  description: string;
}

/**
 * Declares an event type with `defineEvent`, its example carried in the schema's metadata: the JSON Schema of
 * the catalog (`GET /v1/catalog/types`) then lists it under `examples`, and tools reading the catalog find it.
 */
export function healthcareEvent<Schema extends z.ZodType>(
  spec: HealthcareEventSpec<Schema>,
): EventDefinition<Schema> {
  const { example, ...rest } = spec;
  return defineEvent({ ...rest, schema: spec.schema.meta({ examples: [example] }) as Schema });
}

/** The example payload a definition of the pack carries, or undefined for a definition made elsewhere. */
export function exampleOf(definition: EventDefinition): unknown {
  const examples = z.globalRegistry.get(definition.schema)?.examples;
  return Array.isArray(examples) ? examples[0] : undefined;
}
