import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AvroDeserializer,
  AvroSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPublisher } from '../../src/bus/publisher.ts';
import { createRouter } from '../../src/bus/router.ts';
import { createCatalog } from '../../src/events/catalog.ts';
import { defineEvent } from '../../src/events/define-event.ts';
import { defineTopic } from '../../src/events/define-topic.ts';
import { fromRecord, toRecord } from '../../src/events/kafka-binding.ts';
import { registerCatalogSchemas } from '../../src/registry/catalog-schemas.ts';
import { avroData } from '../../src/registry/wire/avro-data.ts';
import { createAvroEncoder } from '../../src/registry/wire/avro-encoder.ts';
import { createAvroWireCodec } from '../../src/registry/wire/avro-wire.ts';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';

const observation = {
  type: 'record',
  name: 'VitalsObserved',
  namespace: 'healthcare',
  fields: [
    { name: 'patientId', type: 'string' },
    { name: 'pulse', type: 'int' },
    { name: 'spo2', type: ['null', 'int'], default: null },
  ],
};

/** Runs kcat (a Kafka client Keel did not write) with binary output; fails with its stderr. */
function kcatBytes(args: readonly string[]): Buffer {
  const run = spawnSync('kcat', args, { timeout: 30_000 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

// Avro records in Confluent's wire format on the real cluster, between Keel and clients Keel did not write
// (kcat on the wire, @confluentinc/schemaregistry's serializer and deserializer), with the node as registry.
describe("Avro on Kafka in Confluent's wire format", () => {
  const harness = kafkaTestHarness('avro');
  const brokers = testBrokers().join(',');
  let temp: TempNode;
  let client: SchemaRegistryClient;
  let dir: string;
  beforeAll(async () => {
    temp = await startTempNode();
    client = new SchemaRegistryClient({ baseURLs: [`${temp.node.url}/registry`] });
    dir = mkdtempSync(join(tmpdir(), 'keel-avro-kafka-'));
  });
  afterAll(async () => {
    await harness.cleanup();
    await temp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Keel writes an Avro event; a Confluent deserializer reads the record from the cluster', async () => {
    const transport = harness.open();
    const topic = harness.topic('vitals');
    await transport.ensureTopics([{ name: topic, partitions: 1 }]);
    const { id } = await temp.node.store.registry.register(`${topic}-value`, {
      schema: JSON.stringify(observation),
    });
    const codec = createAvroWireCodec(temp.node.store.registry);
    const value = { patientId: 'p-17', pulse: 71, spo2: 98 };
    const record = toRecord({
      specversion: '1.0',
      id: 'evt-avro-1',
      source: 'urn:keel:ward-monitor',
      type: 'healthcare.vitals.observed',
      datacontenttype: 'application/avro',
      dataschema: `${temp.node.url}/registry/schemas/ids/${id}`,
      partitionkey: 'p-17',
      data: await codec.encode(id, value),
    });
    await transport.append([{ topic, partition: 0, records: [record] }]);

    const bytes = kcatBytes([
      '-C',
      '-b',
      brokers,
      '-t',
      topic,
      '-o',
      'beginning',
      '-c',
      '1',
      '-e',
      '-f',
      '%s',
    ]);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(id);
    const headers = kcatBytes([
      '-C',
      '-b',
      brokers,
      '-t',
      topic,
      '-o',
      'beginning',
      '-c',
      '1',
      '-e',
      '-f',
      '%h',
    ]).toString();
    expect(headers).toContain('content-type=application/avro');
    expect(headers).toContain(`ce_dataschema=${temp.node.url}/registry/schemas/ids/${id}`);
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
    expect(await deserializer.deserialize(topic, bytes)).toEqual(value);
  });

  it("Keel's Publisher writes Avro; a Confluent deserializer and a Keel Router with its own reader schema read it", async () => {
    const transport = harness.open();
    const topic = harness.topic('vitals-published');
    const VitalsObserved = defineEvent({
      type: `${topic}.observed`,
      version: 1,
      schema: z.object({
        patientId: z.string(),
        pulse: z.number().int(),
        spo2: z.number().int().nullable().optional(),
      }),
      partitionKey: (data) => data.patientId,
      avro: observation,
    });
    const Vitals = defineTopic({
      name: topic,
      partitions: 2,
      serialization: 'avro',
      events: [VitalsObserved],
    });
    const catalog = createCatalog({ topics: [Vitals] });
    await transport.ensureTopics([Vitals]);
    const registry = temp.node.store.registry;
    const [registration] = await registerCatalogSchemas(registry, catalog);
    const registryUrl = `${temp.node.url}/registry`;
    const publisher = createPublisher({
      transport,
      catalog,
      source: 'urn:keel:ward-monitor',
      encoder: createAvroEncoder({ registry, catalog, registryUrl: () => registryUrl }),
    });
    const values = [
      { patientId: 'p-21', pulse: 72, spo2: 97 },
      { patientId: 'p-22', pulse: 58, spo2: null },
    ];
    const receipts = await publisher.publishMany(VitalsObserved, values);
    // Data that passes zod but not the Avro schema is refused, naming the field; nothing is appended.
    const refused = await publisher
      .publish(VitalsObserved, { patientId: 'p-23', pulse: 61.5 as number, spo2: 90 })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'KEEL_VALIDATION' });
    const tooWide = await publisher
      .publish(VitalsObserved, { patientId: 'p-23', pulse: 2 ** 40, spo2: 90 })
      .catch((error: unknown) => error);
    expect(tooWide).toMatchObject({ code: 'KEEL_REGISTRY_AVRO_ENCODE', paths: ['pulse'] });
    await publisher.close();

    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
    const read: unknown[] = [];
    for (const receipt of receipts) {
      const [record] = await transport.read(topic, receipt.partition, receipt.offset, 1);
      const event = fromRecord(record!);
      expect(event).toMatchObject({
        datacontenttype: 'application/avro',
        dataschema: `${registryUrl}/schemas/ids/${registration!.id}`,
      });
      const bytes = Buffer.from(record!.value as Uint8Array);
      expect(bytes.readUInt32BE(1)).toBe(registration!.id);
      read.push(await deserializer.deserialize(topic, bytes));
    }
    expect(read).toEqual(values);
    const stored = (await transport.offsets(topic)).reduce((sum, p) => sum + p.latest - p.earliest, 0n);
    expect(stored).toBe(2n);

    // The consumer's own schema: the first version, before spo2 was added.
    const reader = avro.Type.forSchema({
      ...observation,
      fields: observation.fields.slice(0, 2),
    } as avro.Schema);
    const handled: unknown[] = [];
    const router = createRouter({
      transport,
      catalog,
      group: harness.group('vitals-readers'),
      logger: pino({ level: 'silent' }),
      shutdownSignals: [],
      startFrom: 'earliest',
      middleware: [avroData(createAvroWireCodec(registry), reader)],
    });
    router.on(VitalsObserved, (event) => {
      handled.push(event.data);
    });
    await router.start();
    const deadline = Date.now() + 30_000;
    while (handled.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await router.close();
    expect(handled.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      values.map(({ patientId, pulse }) => ({ patientId, pulse })),
    );
  });

  it("a Confluent serializer's record, produced by kcat, is read by Keel with its own reader schema", async () => {
    const transport = harness.open();
    const topic = harness.topic('vitals-in');
    await transport.ensureTopics([{ name: topic, partitions: 1 }]);
    await client.register(
      `${topic}-value`,
      { schemaType: 'AVRO', schema: JSON.stringify(observation) },
      false,
    );
    const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const bytes = await serializer.serialize(topic, { patientId: 'p-18', pulse: 64, spo2: null });
    const file = join(dir, 'record.bin');
    writeFileSync(file, bytes);
    const headers = [
      'ce_specversion=1.0',
      'ce_id=evt-avro-2',
      'ce_source=urn:confluent:producer',
      'ce_type=healthcare.vitals.observed',
      'content-type=application/avro',
    ];
    kcatBytes(['-P', '-b', brokers, '-t', topic, '-p', '0', ...headers.flatMap((h) => ['-H', h]), file]);

    const [stored] = await transport.read(topic, 0, 0n, 1);
    const event = fromRecord(stored as NonNullable<typeof stored>);
    expect(event).toMatchObject({ id: 'evt-avro-2', datacontenttype: 'application/avro' });
    const codec = createAvroWireCodec(temp.node.store.registry);
    const reader = avro.Type.forSchema({
      ...observation,
      fields: observation.fields.slice(0, 2),
    } as avro.Schema);
    expect(await codec.decode(event.data as Uint8Array, reader)).toEqual({ patientId: 'p-18', pulse: 64 });
  });
});
