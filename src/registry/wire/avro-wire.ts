import type avro from 'avsc';
import { SchemaNotFoundError } from '../errors.ts';
import { parseAvro, type ResolvedReference } from '../parse-schema.ts';
import type { SchemaRegistry } from '../schema-registry.ts';
import type { SchemaReference } from '../types.ts';
import { AvroEncodeError, UndecodableRecordError } from './wire-errors.ts';

/** Confluent's wire format: magic byte 0, then the schema id (4 bytes, big-endian), then the Avro binary. */
export const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/** Encodes and decodes Avro in Confluent's wire format, with schemas fetched from the registry by id (cached). */
export interface AvroWireCodec {
  /** Encodes `value` with schema `id`; throws AvroEncodeError naming the fields that do not fit. */
  encode(id: number, value: unknown): Promise<Buffer>;
  /**
   * Decodes a record: with `reader`, resolves the writer's schema to it (Avro schema evolution); throws
   * UndecodableRecordError with the reason (wrong magic byte, unknown id, bytes that do not decode).
   */
  decode(bytes: Uint8Array, reader?: avro.Type): Promise<unknown>;
  /** The schema id a record names (after checking its magic byte). */
  schemaIdOf(bytes: Uint8Array): number;
}

/** What the codec needs of a registry: schemas by id (references resolved through subjects). */
export type RegistryReader = Pick<SchemaRegistry, 'schemaById' | 'version'>;

/** Creates a codec over a registry (Keel's, or any with the same reads). */
export function createAvroWireCodec(registry: RegistryReader): AvroWireCodec {
  const types = new Map<number, Promise<avro.Type>>();
  const resolvers = new Map<string, unknown>();
  const typeOf = (id: number): Promise<avro.Type> => {
    let type = types.get(id);
    if (type === undefined) {
      type = loadType(registry, id);
      // A failed lookup is not cached: the schema may be registered later.
      type.catch(() => types.delete(id));
      types.set(id, type);
    }
    return type;
  };
  const schemaIdOf = (bytes: Uint8Array): number => {
    if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC_BYTE) {
      throw new UndecodableRecordError(
        'wrong_magic_byte',
        `record does not start with magic byte 0 and a schema id (first byte ${bytes[0] ?? 'missing'}, ${bytes.length} bytes)`,
      );
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32BE(1);
  };
  return {
    schemaIdOf,
    async encode(id, value) {
      const type = await typeOf(id);
      if (!type.isValid(value)) {
        // Again with the hook, only for a value that does not fit: the hook slows every check down.
        const paths: string[] = [];
        type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) });
        throw new AvroEncodeError(id, paths);
      }
      const body = type.toBuffer(value);
      const bytes = Buffer.allocUnsafe(HEADER_BYTES + body.length);
      bytes.writeUInt8(MAGIC_BYTE, 0);
      bytes.writeUInt32BE(id, 1);
      body.copy(bytes, HEADER_BYTES);
      return bytes;
    },
    async decode(bytes, reader) {
      const id = schemaIdOf(bytes);
      let writer: avro.Type;
      try {
        writer = await typeOf(id);
      } catch (error) {
        if (!(error instanceof SchemaNotFoundError)) throw error;
        throw new UndecodableRecordError(
          'unknown_schema_id',
          `record names schema id ${id}, which the registry does not have`,
          id,
          { cause: error },
        );
      }
      const body = Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_BYTES, bytes.length - HEADER_BYTES);
      try {
        if (reader === undefined) return plain(writer.fromBuffer(body));
        const key = `${id}\u0000${reader.fingerprint('sha256').toString('hex')}`;
        let resolver = resolvers.get(key);
        if (resolver === undefined) {
          resolver = reader.createResolver(writer);
          resolvers.set(key, resolver);
        }
        return plain(reader.fromBuffer(body, resolver as never));
      } catch (error) {
        throw new UndecodableRecordError(
          'undecodable_bytes',
          `record's Avro bytes do not decode with schema id ${id}${reader === undefined ? '' : ' read as the consumer schema'}: ${(error as Error).message}`,
          id,
          { cause: error },
        );
      }
    },
  };
}

/** A decoded value as plain data: avsc's record instances (methods on their prototype) become plain objects. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(plain);
  // A spread copies own fields only, and is the cheapest copy V8 makes.
  const out: Record<string, unknown> = { ...value };
  for (const key of Object.keys(out)) {
    const field = out[key];
    if (field !== null && typeof field === 'object') out[key] = plain(field);
  }
  return out;
}

/** The referenced schemas through the registry's subjects, dependencies first. */
async function referencedSchemas(
  registry: RegistryReader,
  references: readonly SchemaReference[],
): Promise<ResolvedReference[]> {
  const out: ResolvedReference[] = [];
  for (const reference of references) {
    const target = await registry.version(
      reference.subject,
      reference.version === -1 ? 'latest' : reference.version,
      { deleted: true },
    );
    for (const nested of await referencedSchemas(registry, target.references)) {
      if (!out.some((known) => known.name === nested.name)) out.push(nested);
    }
    out.push({ name: reference.name, schemaType: target.schemaType, schema: target.schema });
  }
  return out;
}

async function loadType(registry: RegistryReader, id: number): Promise<avro.Type> {
  const stored = await registry.schemaById(id);
  if (stored.schemaType !== 'AVRO')
    throw new SchemaNotFoundError(`schema ${id} is ${stored.schemaType}, not AVRO`);
  return parseAvro(stored.schema, await referencedSchemas(registry, stored.references));
}
