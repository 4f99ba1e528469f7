/** The schema languages the registry keeps; the names are Confluent's `schemaType` values. */
export const schemaTypes = ['AVRO', 'JSON'] as const;

/** A schema language: Avro or JSON Schema. */
export type SchemaType = (typeof schemaTypes)[number];

/** Confluent's compatibility levels: which earlier versions a new one is checked against, and in which direction. */
export const compatibilityLevels = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

/** One compatibility level. */
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

/** Confluent's registry modes: READONLY refuses registrations and deletions, IMPORT is not supported. */
export const registryModes = ['READWRITE', 'READONLY'] as const;

/** One registry mode. */
export type RegistryMode = (typeof registryModes)[number];

/** A schema's use of a named type or document registered under another subject. */
export interface SchemaReference {
  /** Avro: the full name of the referenced type; JSON Schema: the `$ref` value that stands for it. */
  name: string;
  subject: string;
  version: number;
}

/** A schema as a client submits it. */
export interface SchemaInput {
  /** The schema text (JSON). */
  schema: string;
  /** Default `AVRO`, as in Confluent's API. */
  schemaType?: SchemaType;
  references?: readonly SchemaReference[];
}

/** A schema as the registry keeps it: one global id per distinct schema. */
export interface StoredSchema {
  /** Global id (≥ 1), shared by every subject that registered the same schema. */
  id: number;
  schemaType: SchemaType;
  /** The schema text as first registered, re-serialised as compact JSON. */
  schema: string;
  references: readonly SchemaReference[];
}

/** One version of a subject. */
export interface SubjectVersion extends StoredSchema {
  subject: string;
  /** 1, 2, 3, ... per subject; never reused after a soft delete. */
  version: number;
  /** Soft-deleted: hidden unless asked for, not checked against, can be deleted for good. */
  deleted: boolean;
}
