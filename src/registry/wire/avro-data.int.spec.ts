import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDeadLetterQueue } from '../../bus/dead-letter/dead-letter-queue.ts';
import { createRouter } from '../../bus/router.ts';
import { createCatalog } from '../../events/catalog.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { toRecord } from '../../events/kafka-binding.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import type { Transport } from '../../transport/transport.ts';
import type { RegistryStorage } from '../registry-storage.ts';
import { createSchemaRegistry } from '../schema-registry.ts';
import { createSqliteRegistryStorage } from '../sqlite/sqlite-registry-storage.ts';
import { AVRO_CONTENT_TYPE, avroData } from './avro-data.ts';
import { createAvroWireCodec } from './avro-wire.ts';

const writerSchema = {
  type: 'record',
  name: 'VitalsObserved',
  namespace: 'healthcare',
  fields: [
    { name: 'patientId', type: 'string' },
    { name: 'pulse', type: 'int' },
    { name: 'spo2', type: ['null', 'int'], default: null },
  ],
};
// The consumer was built against the first version: no spo2.
const readerSchema = { ...writerSchema, fields: writerSchema.fields.slice(0, 2) };
const VitalsObserved = defineEvent({
  type: 'healthcare.vitals.observed',
  version: 1,
  schema: z.object({ patientId: z.string(), pulse: z.number().int() }).strict(),
});
const Vitals = defineTopic({ name: 'vitals', partitions: 1, events: [VitalsObserved] });
const catalog = createCatalog({ topics: [Vitals] });
const silent = pino({ level: 'silent' });

describe('Avro data through the Router', () => {
  let dir: string;
  let transport: Transport;
  let storage: RegistryStorage;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-avro-router-'));
    transport = createEmbeddedTransport({ path: join(dir, 'keel.db'), logger: silent });
    await transport.ensureTopics([Vitals]);
    storage = createSqliteRegistryStorage({ path: join(dir, 'keel.db'), synchronous: 'normal' });
  });
  afterEach(async () => {
    await storage.close();
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decodes with the reader schema for the handler, and sends bad records to the DLQ with the reason', async () => {
    const registry = createSchemaRegistry({ storage });
    const codec = createAvroWireCodec(registry);
    const { id } = await registry.register('vitals-value', { schema: JSON.stringify(writerSchema) });
    const good = await codec.encode(id, { patientId: 'p-1', pulse: 70, spo2: 99 });
    const wrongMagic = Buffer.from(good);
    wrongMagic[0] = 7;
    const unknownId = Buffer.from(good);
    unknownId.writeUInt32BE(999, 1);
    const truncated = good.subarray(0, 7);
    const records = [good, wrongMagic, unknownId, truncated].map((data, i) =>
      toRecord({
        specversion: '1.0',
        id: `evt-${i}`,
        source: 'urn:keel:monitor',
        type: VitalsObserved.type,
        datacontenttype: AVRO_CONTENT_TYPE,
        data,
      }),
    );
    await transport.append([{ topic: Vitals.name, partition: 0, records }]);

    const handled: unknown[] = [];
    const router = createRouter({
      transport,
      catalog,
      group: 'vitals-readers',
      logger: silent,
      shutdownSignals: [],
      startFrom: 'earliest',
      middleware: [avroData(codec, avro.Type.forSchema(readerSchema as avro.Schema))],
    });
    router.on(VitalsObserved, (event) => {
      handled.push(event.data);
    });
    await router.start();
    const dlq = createDeadLetterQueue({ transport, group: 'vitals-readers' });
    const deadline = Date.now() + 20_000;
    while ((await dlq.list()).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await router.close();

    expect(handled).toEqual([{ patientId: 'p-1', pulse: 70 }]);
    const entries = (await dlq.list()).sort((a, b) => String(a.eventId).localeCompare(String(b.eventId)));
    expect(entries.map((e) => [e.eventId, e.failure.errorCode, e.failure.attempts])).toEqual([
      ['evt-1', 'KEEL_VALIDATION', 1],
      ['evt-2', 'KEEL_VALIDATION', 1],
      ['evt-3', 'KEEL_VALIDATION', 1],
    ]);
    expect(entries.map((e) => e.failure.errorMessage)).toEqual([
      expect.stringContaining('evt-1: wrong_magic_byte: record does not start with magic byte 0'),
      expect.stringContaining('evt-2: unknown_schema_id: record names schema id 999'),
      expect.stringContaining('evt-3: undecodable_bytes'),
    ]);
  });
});
