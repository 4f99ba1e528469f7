import type {
  CompatibilityLevel,
  RegistryMode,
  SchemaReference,
  SchemaType,
  SubjectVersion,
} from './types.ts';

/** A version as the storage keeps it: with the fingerprint that identifies its schema. */
export interface StoredVersion extends SubjectVersion {
  fingerprint: string;
}

/** A schema about to be registered, parsed and fingerprinted. */
export interface NewSchema {
  fingerprint: string;
  schemaType: SchemaType;
  schema: string;
  references: readonly SchemaReference[];
}

/** What a registration did: the version that holds the schema, and whether it was made now. */
export interface Registration {
  version: StoredVersion;
  created: boolean;
}

/** Where a subject's (or the global, `null`) settings are kept. */
export type ConfigScope = string | null;

/**
 * The registry's storage port (adapters `sqlite` and `postgres`, one contract suite): schemas under global ids,
 * subjects' versions, references and settings. Every write is one transaction: nothing is half-registered.
 */
export interface RegistryStorage {
  /**
   * In one transaction per subject: returns the live version already holding the schema (same fingerprint),
   * or calls `guard` with the subject's live versions (oldest first; it throws to refuse) and adds the next
   * version, reusing the schema's global id when another subject registered it.
   */
  register(
    subject: string,
    schema: NewSchema,
    guard: (live: readonly StoredVersion[]) => void,
  ): Promise<Registration>;
  /** The schema with this global id, or undefined. */
  schemaById(id: number): Promise<(NewSchema & { id: number }) | undefined>;
  /** The versions (subject and version) that use the schema with this id. */
  versionsOfId(id: number, includeDeleted: boolean): Promise<{ subject: string; version: number }[]>;
  /** Every subject with a version (soft-deleted ones only when asked), sorted. */
  subjects(includeDeleted: boolean): Promise<string[]>;
  /** The subject's versions, oldest first, soft-deleted ones only when asked. */
  versions(subject: string, includeDeleted: boolean): Promise<StoredVersion[]>;
  /** The live versions whose schema references this subject and version. */
  referencedBy(subject: string, version: number): Promise<{ subject: string; version: number }[]>;
  /** Soft-deletes (hidden, not checked against) or hard-deletes (gone) these versions of the subject. */
  deleteVersions(subject: string, versions: readonly number[], permanent: boolean): Promise<void>;
  /** The compatibility level set for the scope, or undefined. */
  compatibility(scope: ConfigScope): Promise<CompatibilityLevel | undefined>;
  /** Sets (or, with undefined, clears) the scope's compatibility level. */
  setCompatibility(scope: ConfigScope, level: CompatibilityLevel | undefined): Promise<void>;
  /** The mode set for the scope, or undefined. */
  mode(scope: ConfigScope): Promise<RegistryMode | undefined>;
  /** Sets (or, with undefined, clears) the scope's mode. */
  setMode(scope: ConfigScope, mode: RegistryMode | undefined): Promise<void>;
  close(): Promise<void>;
}
