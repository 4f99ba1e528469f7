import avro from 'avsc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryStorage } from '../registry-storage.ts';
import { createSchemaRegistry, type SchemaRegistry } from '../schema-registry.ts';
import { createSqliteRegistryStorage } from '../sqlite/sqlite-registry-storage.ts';
import { type AvroWireCodec, createAvroWireCodec } from './avro-wire.ts';
import { AvroEncodeError, UndecodableRecordError } from './wire-errors.ts';

const vitals = {
  type: 'record',
  name: 'Vitals',
  namespace: 'healthcare',
  fields: [
    { name: 'patientId', type: 'string' },
    { name: 'pulse', type: 'int' },
  ],
};

describe("Avro in Confluent's wire format", () => {
  let storage: RegistryStorage;
  let registry: SchemaRegistry;
  let codec: AvroWireCodec;
  let id: number;
  beforeEach(async () => {
    storage = createSqliteRegistryStorage({ path: ':memory:' });
    registry = createSchemaRegistry({ storage });
    codec = createAvroWireCodec(registry);
    ({ id } = await registry.register('vitals', { schema: JSON.stringify(vitals) }));
  });
  afterEach(async () => {
    await storage.close();
  });

  it('frames Avro binary with magic byte 0 and the big-endian schema id', async () => {
    const bytes = await codec.encode(id, { patientId: 'p', pulse: 72 });
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(id);
    expect(bytes.subarray(5)).toEqual(
      avro.Type.forSchema(vitals as avro.Schema).toBuffer({ patientId: 'p', pulse: 72 }),
    );
    expect(await codec.decode(bytes)).toEqual({ patientId: 'p', pulse: 72 });
  });

  it('reads with the consumer schema (evolution), writer resolved to reader', async () => {
    const v2 = {
      ...vitals,
      fields: [...vitals.fields, { name: 'spo2', type: ['null', 'int'], default: null }],
    };
    const { id: id2 } = await registry.register('vitals', { schema: JSON.stringify(v2) });
    const written = await codec.encode(id2, { patientId: 'p', pulse: 80, spo2: 97 });
    expect(await codec.decode(written, avro.Type.forSchema(vitals as avro.Schema))).toEqual({
      patientId: 'p',
      pulse: 80,
    });
    const old = await codec.encode(id, { patientId: 'q', pulse: 60 });
    expect(await codec.decode(old, avro.Type.forSchema(v2 as avro.Schema))).toEqual({
      patientId: 'q',
      pulse: 60,
      spo2: null,
    });
  });

  it('refuses each bad record with its own reason', async () => {
    const good = await codec.encode(id, { patientId: 'p', pulse: 72 });
    const reasonOf = (bytes: Uint8Array) =>
      codec.decode(bytes).then(
        () => 'decoded',
        (error: unknown) =>
          error instanceof UndecodableRecordError ? [error.reason, error.code, error.message] : String(error),
      );
    const wrongMagic = Buffer.from(good);
    wrongMagic[0] = 1;
    expect(await reasonOf(wrongMagic)).toEqual([
      'wrong_magic_byte',
      'KEEL_REGISTRY_WRONG_MAGIC_BYTE',
      expect.stringContaining('first byte 1'),
    ]);
    expect((await reasonOf(Buffer.from('{"json": true}')))[0]).toBe('wrong_magic_byte');
    const unknown = Buffer.from(good);
    unknown.writeUInt32BE(4242, 1);
    expect(await reasonOf(unknown)).toEqual([
      'unknown_schema_id',
      'KEEL_REGISTRY_UNKNOWN_SCHEMA_ID',
      expect.stringContaining('schema id 4242'),
    ]);
    const truncated = good.subarray(0, good.length - 1);
    expect((await reasonOf(truncated))[0]).toBe('undecodable_bytes');
    expect((await reasonOf(Buffer.concat([good, Buffer.from([1, 2, 3])])))[0]).toBe('undecodable_bytes');
  });

  it('refuses to encode a value that does not fit, naming the fields', async () => {
    const refusal = await codec.encode(id, { patientId: 7, pulse: 'fast' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(AvroEncodeError);
    expect((refusal as AvroEncodeError).paths).toEqual(['patientId', 'pulse']);
  });
});
