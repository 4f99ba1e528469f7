import {
  AvroDeserializer,
  AvroSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import {
  COMPATIBILITY,
  SchemaRegistry as KafkajsRegistry,
  SchemaType,
} from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAvroWireCodec } from '../../registry/wire/avro-wire.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';

const patientV1 = {
  type: 'record',
  name: 'PatientCreated',
  namespace: 'healthcare',
  fields: [
    { name: 'patientId', type: 'string' },
    { name: 'birthYear', type: 'int' },
  ],
};
const patientV2 = {
  ...patientV1,
  fields: [...patientV1.fields, { name: 'email', type: ['null', 'string'], default: null }],
};
const patientBreaking = { ...patientV1, fields: [...patientV1.fields, { name: 'ward', type: 'string' }] };

// Two clients of Confluent's Schema Registry that Keel did not write, used unchanged against a started node.
describe('Confluent Schema Registry clients against the node', () => {
  let temp: TempNode;
  let base: string;
  beforeAll(async () => {
    temp = await startTempNode();
    base = `${temp.node.url}/registry`;
  });
  afterAll(async () => {
    await temp.close();
  });

  it('@kafkajs/confluent-schema-registry: registers, encodes for Keel, decodes Keel, sees refusals', async () => {
    const client = new KafkajsRegistry({ host: base });
    const subject = 'kafkajs.patient.created';
    const { id } = await client.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(patientV1) },
      { subject },
    );
    expect(await client.getLatestSchemaId(subject)).toBe(id);
    expect(JSON.parse(JSON.stringify(await client.getSchema(id)))).toMatchObject({
      name: 'healthcare.PatientCreated',
    });

    const keel = createAvroWireCodec(temp.node.store.registry);
    const value = { patientId: 'p-1', birthYear: 1984 };
    const fromClient = await client.encode(id, value);
    expect(await keel.decode(fromClient)).toEqual(value);
    const fromKeel = await keel.encode(id, { patientId: 'p-2', birthYear: 1990 });
    expect(await client.decode(fromKeel)).toEqual({ patientId: 'p-2', birthYear: 1990 });

    // A compatible evolution registers; Keel reads the client's v2 bytes as v1 (the consumer's schema).
    const { id: id2 } = await client.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(patientV2) },
      { subject },
    );
    const v2Bytes = await client.encode(id2, { patientId: 'p-3', birthYear: 2001, email: 'a@b.c' });
    expect(await keel.decode(v2Bytes, avro.Type.forSchema(patientV1 as avro.Schema))).toEqual({
      patientId: 'p-3',
      birthYear: 2001,
    });

    const refusal = await client
      .register({ type: SchemaType.AVRO, schema: JSON.stringify(patientBreaking) }, { subject })
      .catch((error: unknown) => error as Error);
    expect(refusal).toBeInstanceOf(Error);
    expect(String((refusal as Error).message)).toContain('READER_FIELD_MISSING_DEFAULT_VALUE');
    expect(await client.getLatestSchemaId(subject)).toBe(id2);
    expect(COMPATIBILITY.BACKWARD).toBe('BACKWARD');
  });

  it('@confluentinc/schemaregistry: client and serializers work unchanged', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [base] });
    const subject = 'confluent.patient-value';
    const id = await client.register(
      subject,
      { schemaType: 'AVRO', schema: JSON.stringify(patientV1) },
      false,
    );
    expect((await client.getBySubjectAndId(subject, id)).schema).toBe(JSON.stringify(patientV1));
    expect((await client.getLatestSchemaMetadata(subject)).version).toBe(1);
    expect(await client.getAllSubjects()).toContain(subject);
    expect(await client.getAllVersions(subject)).toEqual([1]);
    expect(
      await client.testSubjectCompatibility(subject, {
        schemaType: 'AVRO',
        schema: JSON.stringify(patientBreaking),
      }),
    ).toBe(false);
    expect(
      await client.testSubjectCompatibility(subject, {
        schemaType: 'AVRO',
        schema: JSON.stringify(patientV2),
      }),
    ).toBe(true);
    await expect(
      client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(patientBreaking) }, false),
    ).rejects.toThrow(/409|incompatible/i);

    const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
    const keel = createAvroWireCodec(temp.node.store.registry);
    const bytes = await serializer.serialize('confluent.patient', { patientId: 'p-9', birthYear: 1970 });
    expect(keel.schemaIdOf(bytes)).toBe(id);
    expect(await keel.decode(bytes)).toEqual({ patientId: 'p-9', birthYear: 1970 });
    const fromKeel = await keel.encode(id, { patientId: 'p-10', birthYear: 1999 });
    expect(await deserializer.deserialize('confluent.patient', fromKeel)).toEqual({
      patientId: 'p-10',
      birthYear: 1999,
    });
  });

  type Answer = { error_code?: number; message?: string; [key: string]: unknown };

  it("answers Confluent's error codes in its media type", async () => {
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`);
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: (await response.json()) as Answer,
      };
    };
    expect(await get('/subjects/nobody/versions')).toEqual({
      status: 404,
      type: expect.stringMatching(/^application\/vnd\.schemaregistry\.v1\+json/),
      body: { error_code: 40401, message: "Subject 'nobody' not found." },
    });
    expect((await get('/schemas/ids/999999')).body.error_code).toBe(40403);
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Answer };
    };
    expect(await post('/subjects/x/versions', { schema: '{"type": "record"}' })).toMatchObject({
      status: 422,
      body: { error_code: 42201 },
    });
    await post('/subjects/x/versions', { schema: '"string"' });
    expect((await get('/subjects/x/versions/2')).body.error_code).toBe(40402);
    expect((await get('/subjects/x/versions/zero')).body.error_code).toBe(42202);
    const conflict = await post('/subjects/x/versions', { schema: '"int"' });
    expect(conflict).toMatchObject({ status: 409, body: { error_code: 409 } });
    expect(conflict.body.message).toContain('TYPE_MISMATCH');
    expect(await get('/subjects/x/versions/latest')).toMatchObject({
      status: 200,
      body: { subject: 'x', version: 1, schema: '"string"' },
    });
    const verbose = await post('/compatibility/subjects/x/versions/latest?verbose=true', { schema: '"int"' });
    expect(verbose.body).toEqual({
      is_compatible: false,
      messages: [expect.stringContaining('TYPE_MISMATCH at /')],
    });
  });
});
