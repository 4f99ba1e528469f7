import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  IncompatibleSchemaError,
  InvalidCompatibilityLevelError,
  InvalidSchemaError,
  OperationNotPermittedError,
  ReferenceExistsError,
  SchemaNotFoundError,
  SubjectNotFoundError,
  SubjectNotSoftDeletedError,
  VersionNotFoundError,
  VersionNotSoftDeletedError,
} from '../errors.ts';
import type { RegistryStorage } from '../registry-storage.ts';
import { createSchemaRegistry, type SchemaRegistry } from '../schema-registry.ts';

/** A storage under test: `connect` opens another one on the same database (another node, or a restart). */
export interface RegistryDatabase {
  storage: RegistryStorage;
  connect(): Promise<RegistryStorage>;
  cleanup(): Promise<void>;
}

const patient = (fields: object[] = []) =>
  JSON.stringify({
    type: 'record',
    name: 'Patient',
    namespace: 'healthcare',
    fields: [{ name: 'id', type: 'string' }, ...fields],
  });
const withEmail = patient([{ name: 'email', type: ['null', 'string'], default: null }]);
const withRequiredPhone = patient([{ name: 'phone', type: 'string' }]);
const jsonSchema = (properties: object) =>
  JSON.stringify({ type: 'object', properties, additionalProperties: false });

/** The behaviour every registry storage must have, proved through the registry on top of it. */
export function describeRegistryContract(name: string, open: () => Promise<RegistryDatabase>): void {
  describe(`schema registry contract: ${name}`, () => {
    let db: RegistryDatabase;
    let registry: SchemaRegistry;
    beforeEach(async () => {
      db = await open();
      registry = createSchemaRegistry({ storage: db.storage });
    });
    afterEach(async () => {
      await db.cleanup();
    });

    it('gives one global id per distinct schema, whatever the subject or key order', async () => {
      const first = await registry.register('healthcare.patient.created', { schema: patient() });
      expect(first).toMatchObject({ subject: 'healthcare.patient.created', version: 1, schemaType: 'AVRO' });
      expect(await registry.register('healthcare.patient.created', { schema: patient() })).toMatchObject({
        id: first.id,
        version: 1,
      });
      const reordered = JSON.stringify({
        namespace: 'healthcare',
        fields: [{ type: 'string', name: 'id' }],
        name: 'Patient',
        type: 'record',
      });
      expect(await registry.register('other', { schema: reordered })).toMatchObject({
        id: first.id,
        version: 1,
      });
      const second = await registry.register('healthcare.patient.created', { schema: withEmail });
      expect(second).toMatchObject({ version: 2 });
      expect(second.id).not.toBe(first.id);
      expect(await registry.schemaById(second.id)).toEqual({
        id: second.id,
        schemaType: 'AVRO',
        schema: JSON.stringify(JSON.parse(withEmail)),
        references: [],
      });
      expect(await registry.versionsOfId(first.id)).toEqual([
        { subject: 'healthcare.patient.created', version: 1 },
        { subject: 'other', version: 1 },
      ]);
      expect(await registry.subjects()).toEqual(['healthcare.patient.created', 'other']);
      expect(await registry.lookup('healthcare.patient.created', { schema: withEmail })).toMatchObject({
        version: 2,
      });
    });

    it('refuses an incompatible schema with the reason and stores nothing', async () => {
      await registry.register('p', { schema: patient() });
      const refusal = await registry.register('p', { schema: withRequiredPhone }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(IncompatibleSchemaError);
      expect((refusal as IncompatibleSchemaError).errorCode).toBe(409);
      expect((refusal as Error).message).toContain(
        "version 1 (the new schema reads data written with it): READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1: field 'phone'",
      );
      expect(await registry.versions('p')).toEqual([1]);
      await expect(registry.lookup('p', { schema: withRequiredPhone })).rejects.toBeInstanceOf(
        SchemaNotFoundError,
      );
      const verdict = await registry.checkCompatibility('p', { schema: withRequiredPhone });
      expect(verdict.compatible).toBe(false);
      await registry.setCompatibility('NONE', 'p');
      expect(await registry.register('p', { schema: withRequiredPhone })).toMatchObject({ version: 2 });
    });

    it('refuses schemas that do not parse, and references to nothing, storing nothing', async () => {
      const bad = [
        { schema: '{"type": "record", "name": "P"}' },
        { schema: 'not json' },
        { schema: '{"type": "object", "properties": {"a": {"type": "text"}}}', schemaType: 'JSON' as const },
        { schema: patient(), references: [{ name: 'healthcare.Address', subject: 'address', version: 1 }] },
      ];
      for (const input of bad) {
        await expect(registry.register('p', input)).rejects.toBeInstanceOf(InvalidSchemaError);
      }
      await expect(
        registry.register('p', { schema: '"string"', schemaType: 'PROTOBUF' as never }),
      ).rejects.toThrow(/schemaType 'PROTOBUF' is not supported/);
      expect(await registry.subjects({ deleted: true })).toEqual([]);
    });

    it('soft-deletes, then hard-deletes, versions and subjects', async () => {
      await registry.register('p', { schema: patient() });
      const v2 = await registry.register('p', { schema: withEmail });
      await expect(registry.deleteVersion('p', 2, { permanent: true })).rejects.toBeInstanceOf(
        VersionNotSoftDeletedError,
      );
      expect(await registry.deleteVersion('p', 2)).toBe(2);
      expect(await registry.versions('p')).toEqual([1]);
      expect(await registry.versions('p', { deleted: true })).toEqual([1, 2]);
      await expect(registry.version('p', 2)).rejects.toBeInstanceOf(VersionNotFoundError);
      expect(await registry.version('p', 2, { deleted: true })).toMatchObject({ deleted: true, id: v2.id });
      // A soft-deleted version is not checked against, and its number is not reused.
      expect(
        await registry.register('p', { schema: withRequiredPhone, references: [] }).catch((e) => e),
      ).toBeInstanceOf(IncompatibleSchemaError);
      expect(await registry.register('p', { schema: withEmail })).toMatchObject({ version: 3, id: v2.id });
      expect(await registry.schemaById(v2.id)).toMatchObject({ id: v2.id });
      await expect(registry.deleteSubject('p', { permanent: true })).rejects.toBeInstanceOf(
        SubjectNotSoftDeletedError,
      );
      expect(await registry.deleteSubject('p')).toEqual([1, 3]);
      await expect(registry.versions('p')).rejects.toBeInstanceOf(SubjectNotFoundError);
      expect(await registry.subjects()).toEqual([]);
      expect(await registry.subjects({ deleted: true })).toEqual(['p']);
      expect(await registry.deleteSubject('p', { permanent: true })).toEqual([1, 2, 3]);
      expect(await registry.subjects({ deleted: true })).toEqual([]);
      await expect(registry.deleteSubject('p')).rejects.toBeInstanceOf(SubjectNotFoundError);
    });

    it('resolves Avro and JSON Schema references, and keeps referenced versions from deletion', async () => {
      const address = JSON.stringify({
        type: 'record',
        name: 'Address',
        namespace: 'healthcare',
        fields: [{ name: 'city', type: 'string' }],
      });
      await registry.register('healthcare.Address', { schema: address });
      const withAddress = patient([{ name: 'address', type: 'healthcare.Address' }]);
      const references = [{ name: 'healthcare.Address', subject: 'healthcare.Address', version: 1 }];
      const user = await registry.register('p', { schema: withAddress, references });
      expect(await registry.version('p', 'latest')).toMatchObject({ references });
      expect(await registry.referencedBy('healthcare.Address', 1)).toEqual([user.id]);
      await expect(registry.deleteVersion('healthcare.Address', 1)).rejects.toBeInstanceOf(
        ReferenceExistsError,
      );
      await expect(registry.register('q', { schema: withAddress })).rejects.toThrow(
        /undefined type name: healthcare.Address/,
      );

      await registry.register('code', {
        schemaType: 'JSON',
        schema: JSON.stringify({ type: 'string', maxLength: 8 }),
      });
      const jsonRefs = [{ name: 'code.json', subject: 'code', version: 1 }];
      const order = {
        schemaType: 'JSON' as const,
        schema: jsonSchema({ code: { $ref: 'code.json' } }),
        references: jsonRefs,
      };
      await registry.register('order', order);
      await registry
        .register('code', { schemaType: 'JSON', schema: JSON.stringify({ type: 'string', maxLength: 4 }) })
        .catch(() => undefined);
      const narrowed = await registry.checkCompatibility('order', {
        schemaType: 'JSON',
        schema: jsonSchema({ code: { $ref: 'code.json', pattern: '^[A-Z]+$' } }),
        references: jsonRefs,
      });
      expect(narrowed.incompatibilities.map((i) => [i.rule, i.path])).toEqual([
        ['PATTERN_ADDED', '/properties/code/pattern'],
      ]);
    });

    it('keeps compatibility levels and modes per subject and for the registry', async () => {
      expect(await registry.compatibility()).toBe('BACKWARD');
      expect(await registry.compatibility('p', { defaultToGlobal: false })).toBeUndefined();
      await registry.setCompatibility('FULL_TRANSITIVE');
      expect(await registry.compatibility('p')).toBe('FULL_TRANSITIVE');
      await registry.setCompatibility('NONE', 'p');
      expect(await registry.compatibility('p')).toBe('NONE');
      expect(await registry.deleteCompatibility('p')).toBe('NONE');
      expect(await registry.compatibility('p')).toBe('FULL_TRANSITIVE');
      await expect(registry.setCompatibility('SIDEWAYS')).rejects.toBeInstanceOf(
        InvalidCompatibilityLevelError,
      );
      await registry.setMode('READONLY');
      await expect(registry.register('p', { schema: patient() })).rejects.toBeInstanceOf(
        OperationNotPermittedError,
      );
      await registry.setMode('READWRITE', 'p');
      expect(await registry.register('p', { schema: patient() })).toMatchObject({ version: 1 });
      expect(await registry.mode('q')).toBe('READONLY');
    });

    it('registers concurrently from two registries without duplicate versions or ids', async () => {
      const other = createSchemaRegistry({ storage: await db.connect() });
      const schemas = Array.from({ length: 8 }, (_, i) =>
        patient(Array.from({ length: i }, (_, j) => ({ name: `f${j}`, type: 'int', default: 0 }))),
      );
      const results = await Promise.all([
        ...schemas.map((schema, i) => (i % 2 === 0 ? registry : other).register('p', { schema })),
        ...schemas.map((schema, i) => (i % 2 === 0 ? other : registry).register('p', { schema })),
      ]);
      const versions = await registry.versions('p');
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const ids = new Set(results.map((r) => r.id));
      expect(ids.size).toBe(8);
      for (const [i, schema] of schemas.entries()) {
        expect(results[i]?.id).toBe(results[i + 8]?.id);
        expect((await registry.lookup('p', { schema })).id).toBe(results[i]?.id);
      }
    });

    it('keeps everything across a restart', async () => {
      const registered = await registry.register('p', { schema: patient() });
      await registry.setCompatibility('FORWARD', 'p');
      const reopened = createSchemaRegistry({ storage: await db.connect() });
      expect(await reopened.schemaById(registered.id)).toMatchObject({
        schema: JSON.stringify(JSON.parse(patient())),
      });
      expect(await reopened.compatibility('p')).toBe('FORWARD');
      await expect(reopened.schemaById(registered.id + 100)).rejects.toBeInstanceOf(SchemaNotFoundError);
    });
  });
}
