import type { z } from 'zod';
import { pointerSegments } from './sensitive-fields.ts';

/** Turns data written at one version into the shape of the next version. */
export interface Upcaster {
  /** Version the input data was written at; the output is at `fromVersion + 1`. */
  fromVersion: number;
  upcast: (data: unknown) => unknown;
}

/** How to declare an event type. */
export interface EventSpec<Schema extends z.ZodType> {
  /** Reverse-DNS CloudEvents type, e.g. `healthcare.patient.created`. */
  type: string;
  /** Current integer version of the data schema, from 1. */
  version: number;
  /** Zod schema of the current version's data. */
  schema: Schema;
  /** Picks the partition key (and default subject) from the data; keyless when absent. */
  partitionKey?: (data: z.output<Schema>) => string;
  /** One-line description for the catalog. */
  description?: string;
  /** Upcasters from every older version, one per step (1→2, 2→3, ...). */
  upcasters?: readonly Upcaster[];
  /**
   * JSON pointers (RFC 6901) of data fields holding protected health information, e.g. `['/name',
   * '/address/line1']`: encrypted before they leave a publisher that has field encryption configured.
   */
  sensitive?: readonly string[];
  /**
   * The Avro schema of the data (a record schema as JSON): the event is then published as Avro in Confluent's
   * wire format, its schema registered under the subject named after the type. Absent: the data is JSON.
   */
  avro?: AvroSchemaJson;
}

/** An Avro schema as parsed JSON, e.g. `{ type: 'record', name: 'PatientCreated', fields: [...] }`. */
export type AvroSchemaJson = Readonly<Record<string, unknown>>;

/** A declared event type: plain data, usable as a value and as a type. */
export interface EventDefinition<Schema extends z.ZodType = z.ZodType>
  extends Required<Pick<EventSpec<Schema>, 'type' | 'version' | 'schema'>> {
  readonly kind: 'event';
  readonly partitionKey: ((data: z.output<Schema>) => string) | undefined;
  readonly description: string | undefined;
  /** Upcasters sorted by `fromVersion`. */
  readonly upcasters: readonly Upcaster[];
  /** JSON pointers of the sensitive data fields; empty when none. */
  readonly sensitive: readonly string[];
  /** The Avro schema its data is published with, or undefined for JSON. */
  readonly avro: AvroSchemaJson | undefined;
}

/** The data type of an event definition. */
export type EventData<Definition> =
  Definition extends EventDefinition<infer Schema> ? z.output<Schema> : never;

/** Declares an event type with a zod schema, an integer version and upcasters from older versions. */
export function defineEvent<Schema extends z.ZodType>(spec: EventSpec<Schema>): EventDefinition<Schema> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(spec.type)) {
    throw new TypeError(
      `defineEvent: type "${spec.type}" must be a dotted name of letters, digits, '.', '_' or '-'`,
    );
  }
  if (!Number.isInteger(spec.version) || spec.version < 1) {
    throw new TypeError(`defineEvent(${spec.type}): version must be an integer ≥ 1, got ${spec.version}`);
  }
  const upcasters = [...(spec.upcasters ?? [])].sort((a, b) => a.fromVersion - b.fromVersion);
  const expected = Array.from({ length: spec.version - 1 }, (_, i) => i + 1);
  const given = upcasters.map((u) => u.fromVersion);
  if (given.length > 0 && given.join() !== expected.slice(expected.length - given.length).join()) {
    throw new TypeError(
      `defineEvent(${spec.type}): upcasters must chain without gaps up to version ${spec.version}, got from-versions [${given.join(', ')}]`,
    );
  }
  const sensitive = [...new Set(spec.sensitive ?? [])];
  for (const pointer of sensitive) {
    try {
      pointerSegments(pointer);
    } catch (error) {
      throw new TypeError(`defineEvent(${spec.type}): sensitive: ${(error as Error).message}`);
    }
  }
  if (
    spec.avro !== undefined &&
    (spec.avro === null || typeof spec.avro !== 'object' || Array.isArray(spec.avro))
  ) {
    throw new TypeError(
      `defineEvent(${spec.type}): avro must be an Avro schema object, got ${JSON.stringify(spec.avro)}`,
    );
  }
  return Object.freeze({
    kind: 'event' as const,
    type: spec.type,
    version: spec.version,
    schema: spec.schema,
    partitionKey: spec.partitionKey,
    description: spec.description,
    upcasters: Object.freeze(upcasters),
    sensitive: Object.freeze(sensitive),
    avro: spec.avro,
  });
}
