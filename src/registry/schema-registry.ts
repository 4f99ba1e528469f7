import { compatibilityIncompatibilities, type EarlierVersion } from './compatibility/check-compatibility.ts';
import {
  type Incompatibility,
  IncompatibleSchemaError,
  InvalidSchemaError,
  OperationNotPermittedError,
  SchemaNotFoundError,
  SubjectNotFoundError,
  VersionNotFoundError,
} from './errors.ts';
import { type ParsedSchema, parseSchema } from './parse-schema.ts';
import { createRegistryDeletes } from './registry-deletes.ts';
import { parseSchemaRegistryOptions, type SchemaRegistryOptions } from './registry-options.ts';
import { createRegistrySettings } from './registry-settings.ts';
import type { RegistryStorage, StoredVersion } from './registry-storage.ts';
import { resolveReferences } from './resolve-references.ts';
import {
  type CompatibilityLevel,
  type RegistryMode,
  type SchemaInput,
  type StoredSchema,
  type SubjectVersion,
  schemaTypes,
} from './types.ts';

export type { SchemaRegistryOptions } from './registry-options.ts';

/** A version asked for: its number, `latest` (or -1, Confluent's spelling of it). */
export type VersionSpec = number | 'latest';

/** Soft-deleted versions are hidden unless `deleted` is true. */
export interface IncludeDeleted {
  deleted?: boolean;
}

/** A compatibility level used instead of the subject's, for one call. */
export interface LevelOverride {
  level?: CompatibilityLevel;
}

/** The outcome of a compatibility check: the verdict and every reason against it. */
export interface CompatibilityVerdict {
  compatible: boolean;
  incompatibilities: Incompatibility[];
}

/**
 * Keel's schema registry: subjects with versions of Avro or JSON Schema schemas under global ids (one id per
 * distinct schema), checked by the subject's compatibility level before anything is stored.
 */
export interface SchemaRegistry {
  /**
   * Registers the schema under the subject (or returns the version that already holds it); `level` replaces
   * the subject's for this registration only (the catalog's, when upcasters cover a step).
   */
  register(subject: string, input: SchemaInput, options?: LevelOverride): Promise<SubjectVersion>;
  /** The subject's version holding this schema; throws SchemaNotFoundError when it has none. */
  lookup(subject: string, input: SchemaInput, options?: IncludeDeleted): Promise<SubjectVersion>;
  /** The schema with this global id. */
  schemaById(id: number): Promise<StoredSchema>;
  /** The subjects and versions that use the schema with this id. */
  versionsOfId(id: number, options?: IncludeDeleted): Promise<{ subject: string; version: number }[]>;
  subjects(options?: IncludeDeleted & { prefix?: string }): Promise<string[]>;
  /** The subject's version numbers, oldest first. */
  versions(subject: string, options?: IncludeDeleted): Promise<number[]>;
  version(subject: string, version: VersionSpec, options?: IncludeDeleted): Promise<SubjectVersion>;
  /** The global ids of the live schemas that reference this version. */
  referencedBy(subject: string, version: VersionSpec): Promise<number[]>;
  /** Soft-deletes a version, or (`permanent`, after a soft delete) removes it; returns its number. */
  deleteVersion(subject: string, version: VersionSpec, options?: { permanent?: boolean }): Promise<number>;
  /** Soft-deletes every version, or (`permanent`, after a soft delete) removes them; returns their numbers. */
  deleteSubject(subject: string, options?: { permanent?: boolean }): Promise<number[]>;
  /** The subject's level (falling back to the registry's unless `defaultToGlobal` is false), or the registry's. */
  compatibility(
    subject?: string,
    options?: { defaultToGlobal?: boolean },
  ): Promise<CompatibilityLevel | undefined>;
  setCompatibility(level: string, subject?: string): Promise<CompatibilityLevel>;
  /** Removes the subject's (or the registry's) own level; returns the one it had. */
  deleteCompatibility(subject?: string): Promise<CompatibilityLevel>;
  mode(subject?: string): Promise<RegistryMode>;
  setMode(mode: string, subject?: string): Promise<RegistryMode>;
  /** Checks a schema against one version, or (without `version`) against those the subject's level names. */
  checkCompatibility(
    subject: string,
    input: SchemaInput,
    version?: VersionSpec,
    options?: LevelOverride,
  ): Promise<CompatibilityVerdict>;
}

/** A candidate parsed with its references, ready to store. */
interface Candidate {
  parsed: ParsedSchema;
  input: Required<SchemaInput>;
}

/** Raised inside a registration when another version arrived after the earlier ones were parsed. */
class EarlierVersionsMoved extends Error {}

/** Creates the registry on a storage; the storage stays the caller's to close. */
export function createSchemaRegistry(options: SchemaRegistryOptions): SchemaRegistry {
  const settings = parseSchemaRegistryOptions(options);
  const storage: RegistryStorage = settings.storage;
  const parsedCache = new Map<string, ParsedSchema>();

  const prepare = async (input: SchemaInput): Promise<Candidate> => {
    const schemaType = input.schemaType ?? 'AVRO';
    if (!schemaTypes.includes(schemaType)) {
      throw new InvalidSchemaError(`schemaType '${String(schemaType)}' is not supported; use AVRO or JSON`);
    }
    if (typeof input.schema !== 'string') throw new InvalidSchemaError('the schema must be a string');
    const references = input.references ?? [];
    const resolved = await resolveReferences(storage, references);
    return {
      parsed: parseSchema(schemaType, input.schema, references, resolved),
      input: { schema: input.schema, schemaType, references },
    };
  };

  const parsedVersion = async (version: StoredVersion): Promise<ParsedSchema> => {
    const known = parsedCache.get(version.fingerprint);
    if (known !== undefined) return known;
    const resolved = await resolveReferences(storage, version.references);
    const parsed = parseSchema(version.schemaType, version.schema, version.references, resolved);
    parsedCache.set(version.fingerprint, parsed);
    return parsed;
  };

  const effectiveLevel = async (subject: string): Promise<CompatibilityLevel> =>
    (await storage.compatibility(subject)) ??
    (await storage.compatibility(null)) ??
    settings.defaultCompatibility;

  const assertWritable = async (subject: string): Promise<void> => {
    const mode = (await storage.mode(subject)) ?? (await storage.mode(null)) ?? 'READWRITE';
    if (mode === 'READONLY') {
      throw new OperationNotPermittedError(`Subject ${subject} is in read-only mode`);
    }
  };

  const registerOnce = async (subject: string, candidate: Candidate, level: CompatibilityLevel) => {
    const earlier: EarlierVersion[] = [];
    for (const version of await storage.versions(subject, false)) {
      earlier.push({ version: version.version, parsed: await parsedVersion(version) });
    }
    return storage.register(
      subject,
      {
        fingerprint: candidate.parsed.fingerprint,
        schemaType: candidate.input.schemaType,
        schema: candidate.parsed.text,
        references: candidate.input.references,
      },
      (live) => {
        const same =
          live.length === earlier.length && live.every((v, i) => v.version === earlier[i]?.version);
        if (!same) throw new EarlierVersionsMoved();
        const issues = compatibilityIncompatibilities(candidate.parsed, earlier, level);
        if (issues.length > 0) throw new IncompatibleSchemaError(subject, level, issues);
      },
    );
  };

  const findVersion = async (
    subject: string,
    spec: VersionSpec,
    deleted: boolean,
  ): Promise<StoredVersion> => {
    const versions = await storage.versions(subject, deleted);
    if (versions.length === 0) throw new SubjectNotFoundError(subject);
    const found =
      spec === 'latest' || spec === -1 ? versions.at(-1) : versions.find((v) => v.version === spec);
    if (found === undefined) throw new VersionNotFoundError(subject, spec);
    return found;
  };

  const publicVersion = ({ fingerprint: _f, ...version }: StoredVersion): SubjectVersion => version;

  return {
    register: async (subject, input, options) => {
      await assertWritable(subject);
      const candidate = await prepare(input);
      const level = options?.level ?? (await effectiveLevel(subject));
      for (let attempt = 0; ; attempt++) {
        try {
          return publicVersion((await registerOnce(subject, candidate, level)).version);
        } catch (error) {
          if (!(error instanceof EarlierVersionsMoved) || attempt >= 10) throw error;
        }
      }
    },
    lookup: async (subject, input, options) => {
      const candidate = await prepare(input);
      const versions = await storage.versions(subject, options?.deleted === true);
      if (versions.length === 0) throw new SubjectNotFoundError(subject);
      const found = versions.find((v) => v.fingerprint === candidate.parsed.fingerprint);
      if (found === undefined) throw new SchemaNotFoundError(`not registered under subject '${subject}'`);
      return publicVersion(found);
    },
    schemaById: async (id) => {
      const found = await storage.schemaById(id);
      if (found === undefined) throw new SchemaNotFoundError(`no schema has id ${id}`);
      const { fingerprint: _f, ...schema } = found;
      return schema;
    },
    versionsOfId: async (id, options) => {
      if ((await storage.schemaById(id)) === undefined)
        throw new SchemaNotFoundError(`no schema has id ${id}`);
      return storage.versionsOfId(id, options?.deleted === true);
    },
    subjects: async (options) =>
      (await storage.subjects(options?.deleted === true)).filter((s) => s.startsWith(options?.prefix ?? '')),
    versions: async (subject, options) => {
      const versions = await storage.versions(subject, options?.deleted === true);
      if (versions.length === 0) throw new SubjectNotFoundError(subject);
      return versions.map((v) => v.version);
    },
    version: async (subject, spec, options) =>
      publicVersion(await findVersion(subject, spec, options?.deleted === true)),
    referencedBy: async (subject, spec) => {
      const target = await findVersion(subject, spec, true);
      const users = await storage.referencedBy(subject, target.version);
      const ids: number[] = [];
      for (const user of users) {
        const version = (await storage.versions(user.subject, false)).find((v) => v.version === user.version);
        if (version !== undefined && !ids.includes(version.id)) ids.push(version.id);
      }
      return ids;
    },
    ...createRegistryDeletes(storage, findVersion, assertWritable),
    ...createRegistrySettings(storage, settings.defaultCompatibility),
    checkCompatibility: async (subject, input, spec, options) => {
      const candidate = await prepare(input);
      const level = options?.level ?? (await effectiveLevel(subject));
      const live = await storage.versions(subject, false);
      const chosen = spec === undefined ? live : [await findVersion(subject, spec, false)];
      const earlier: EarlierVersion[] = [];
      for (const version of chosen)
        earlier.push({ version: version.version, parsed: await parsedVersion(version) });
      // Against one chosen version, the transitive levels and their plain forms mean the same.
      const incompatibilities = compatibilityIncompatibilities(candidate.parsed, earlier, level);
      return { compatible: incompatibilities.length === 0, incompatibilities };
    },
  };
}
