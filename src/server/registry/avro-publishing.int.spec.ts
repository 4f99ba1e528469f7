import { AvroDeserializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCatalog } from '../../events/catalog.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';

const AdmissionRecorded = defineEvent({
  type: 'healthcare.admission.recorded',
  version: 1,
  schema: z.object({ patientId: z.string(), ward: z.string() }),
  partitionKey: (data) => data.patientId,
  avro: {
    type: 'record',
    name: 'AdmissionRecorded',
    namespace: 'healthcare',
    fields: [
      { name: 'patientId', type: 'string' },
      { name: 'ward', type: 'string' },
    ],
  },
});
const Admissions = defineTopic({ name: 'admissions', serialization: 'avro', events: [AdmissionRecorded] });

// A node whose catalog declares an Avro event type registers its schema on start and publishes it as Avro.
describe('a node publishing an Avro event type', () => {
  let temp: TempNode;
  beforeAll(async () => {
    temp = await startTempNode({ catalog: createCatalog({ topics: [Admissions] }) });
  });
  afterAll(() => temp.close());

  it('registers the Avro schema under the type and writes the data in the wire format', async () => {
    const receipt = await temp.node.publisher.publish(AdmissionRecorded, { patientId: 'p-3', ward: 'B2' });
    const registered = await temp.node.store.registry.version(AdmissionRecorded.type, 'latest');
    expect(registered.schemaType).toBe('AVRO');
    const [record] = await temp.node.transport.read(receipt.topic, receipt.partition, receipt.offset, 1);
    const event = fromRecord(record!);
    expect(event.datacontenttype).toBe('application/avro');
    expect(event.dataschema).toBe(`${temp.node.url}/registry/schemas/ids/${registered.id}`);
    const client = new SchemaRegistryClient({ baseURLs: [`${temp.node.url}/registry`] });
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
    expect(await deserializer.deserialize(Admissions.name, Buffer.from(event.data as Uint8Array))).toEqual({
      patientId: 'p-3',
      ward: 'B2',
    });
  });

  it('refuses a topic declared Avro with an event type that has no Avro schema', () => {
    const Plain = defineEvent({ type: 'healthcare.note.added', version: 1, schema: z.object({}) });
    expect(() => defineTopic({ name: 'notes', serialization: 'avro', events: [Plain] })).toThrow(
      /serialization 'avro' needs an Avro schema on every event type; missing on healthcare.note.added/,
    );
  });
});
