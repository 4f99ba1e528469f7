import { sample } from 'openapi-sampler';
import type { EventDefinition } from '../../events/define-event.ts';

/** An example of an event type's data, and whether the type's own schema accepts it. */
export interface ExamplePayload {
  /** The example, or null when the schema has nothing a sampler can build from. */
  example: unknown;
  /** The definition's schema accepts the example (a pattern or a refinement may not be met). */
  valid: boolean;
}

/**
 * An example of a type's data, generated from its JSON Schema by openapi-sampler: deterministic (the same
 * schema gives the same example every time, so a catalog page does not change on reload), using the
 * schema's `examples`, `default` and `const` first, then one value per type and format.
 */
export function examplePayload(definition: EventDefinition, schema: Record<string, unknown>): ExamplePayload {
  let example: unknown;
  try {
    example = sample(schema as never, { quiet: true });
  } catch {
    // A schema the sampler cannot follow still has a catalog entry, without an example.
    return { example: null, valid: false };
  }
  return { example: example ?? null, valid: definition.schema.safeParse(example).success };
}
