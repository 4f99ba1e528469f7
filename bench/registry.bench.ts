// Schema registry: lookups through Confluent's client against a node (cache cold and warm), and Avro in
// Confluent's wire format against JSON on the same healthcare events (bytes and codec throughput).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { pino } from 'pino';
import { configSchema } from '../src/config/config-schema.ts';
import { fromRecord, toRecord } from '../src/events/kafka-binding.ts';
import type { AvroWireCodec } from '../src/registry/wire/avro-wire.ts';
import { createAvroWireCodec } from '../src/registry/wire/avro-wire.ts';
import { createNode } from '../src/server/node.ts';
import type { Transport } from '../src/transport/transport.ts';
import { benchCatalog } from './bench-catalog.ts';
import type { BenchResult } from './stats.ts';

/** An admission event as a hospital's systems send it: ids, codes, a few free-text fields. */
const admissionSchema = {
  type: 'record',
  name: 'AdmissionOpened',
  namespace: 'healthcare',
  fields: [
    { name: 'admissionId', type: 'string' },
    { name: 'patientId', type: 'string' },
    { name: 'ward', type: 'string' },
    { name: 'bed', type: ['null', 'string'], default: null },
    { name: 'admittedAt', type: 'long' },
    {
      name: 'priority',
      type: { type: 'enum', name: 'Priority', symbols: ['ROUTINE', 'URGENT', 'EMERGENCY'] },
    },
    { name: 'diagnosisCodes', type: { type: 'array', items: 'string' } },
    { name: 'attendingPhysician', type: 'string' },
    { name: 'notes', type: 'string' },
    { name: 'ageYears', type: 'int' },
    { name: 'weightKg', type: 'double' },
  ],
};

/** The i-th admission of the bench's healthcare events. */
export function admission(i: number) {
  return {
    admissionId: `adm-${i.toString().padStart(8, '0')}`,
    patientId: `pat-${(i * 7919) % 1_000_000}`,
    ward: ['cardiology', 'oncology', 'maternity', 'icu'][i % 4] as string,
    bed: i % 3 === 0 ? null : `B-${i % 40}`,
    admittedAt: 1_764_000_000_000 + i * 1000,
    priority: ['ROUTINE', 'URGENT', 'EMERGENCY'][i % 3] as string,
    diagnosisCodes: ['I21.4', 'E11.9', 'J18.9'].slice(0, 1 + (i % 3)),
    attendingPhysician: `Dr. ${['Okafor', 'Lindqvist', 'Haddad', 'Moreau'][i % 4]}`,
    notes: 'Admitted via emergency department; observation and telemetry ordered.',
    ageYears: 20 + (i % 70),
    weightKg: 55 + (i % 40) + 0.5,
  };
}

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);

async function forMs(ms: number, step: () => Promise<void> | void): Promise<{ count: number; ms: number }> {
  const started = performance.now();
  let count = 0;
  while (performance.now() - started < ms) {
    await step();
    count++;
  }
  return { count, ms: performance.now() - started };
}

/** Bytes on the wire (value and headers) and throughput of appending then reading back N events of one format. */
async function throughTransport(
  transport: Transport,
  topic: string,
  events: readonly ReturnType<typeof admission>[],
  encode: (value: ReturnType<typeof admission>) => Promise<{ data: unknown; datacontenttype: string }>,
  decode: (data: unknown) => Promise<unknown>,
) {
  await transport.ensureTopics([{ name: topic, partitions: 1 }]);
  const started = performance.now();
  let bytes = 0;
  for (let from = 0; from < events.length; from += 500) {
    const records = [];
    for (const [i, value] of events.slice(from, from + 500).entries()) {
      const { data, datacontenttype } = await encode(value);
      const record = toRecord({
        specversion: '1.0',
        id: `e-${from + i}`,
        source: 'urn:bench',
        type: 'healthcare.admission.opened',
        datacontenttype,
        data: data as never,
      });
      bytes +=
        (record.value?.length ?? 0) +
        Object.entries(record.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
      records.push(record);
    }
    await transport.append([{ topic, partition: 0, records }]);
  }
  const appended = performance.now();
  let offset = 0n;
  while (offset < BigInt(events.length)) {
    const batch = await transport.read(topic, 0, offset, 1000);
    for (const record of batch) await decode(fromRecord(record).data);
    offset += BigInt(batch.length);
  }
  const read = performance.now();
  return {
    bytes: bytes / events.length,
    publish: rate(events.length, appended - started),
    consume: rate(events.length, read - appended),
  };
}

/** The same events through the node's embedded transport as Avro and as JSON, one after the other. */
async function avroAgainstJson(
  transport: Transport,
  codec: AvroWireCodec,
  id: number,
): Promise<BenchResult[]> {
  const events = Array.from({ length: 20_000 }, (_, i) => admission(i));
  const json = await throughTransport(
    transport,
    'bench.admissions.json',
    events,
    async (value) => ({ data: value, datacontenttype: 'application/json' }),
    async (data) => data,
  );
  const avroRun = await throughTransport(
    transport,
    'bench.admissions.avro',
    events,
    async (value) => ({ data: await codec.encode(id, value), datacontenttype: 'application/avro' }),
    (data) => codec.decode(data as Uint8Array),
  );
  const note = '20 000 events, appended in batches of 500 to the embedded transport and read back, decoded';
  return [
    {
      name: 'registry: Avro record bytes on the wire (value + headers)',
      value: Math.round(avroRun.bytes),
      unit: 'B',
      note: `JSON: ${Math.round(json.bytes)} B`,
    },
    {
      name: 'registry: JSON record bytes on the wire (value + headers)',
      value: Math.round(json.bytes),
      unit: 'B',
    },
    {
      name: 'registry: Avro publish (encode + append)',
      value: avroRun.publish,
      unit: 'events/s',
      note: `${note}; JSON ${json.publish.toLocaleString('en-US')}/s`,
    },
    { name: 'registry: JSON publish (encode + append)', value: json.publish, unit: 'events/s' },
    {
      name: 'registry: Avro consume (read + decode)',
      value: avroRun.consume,
      unit: 'events/s',
      note: `JSON ${json.consume.toLocaleString('en-US')}/s`,
    },
    { name: 'registry: JSON consume (read + decode)', value: json.consume, unit: 'events/s' },
  ];
}

/** Avro (wire format, registry id) against JSON on the same events, and registry lookups with cache cold/warm. */
export async function registryBenchmarks(seconds = 3): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-registry-'));
  const node = createNode({
    config: configSchema.parse({ port: 0, logLevel: 'silent', sync: 'normal', dataDir: dir }),
    catalog: benchCatalog,
    logger: pino({ level: 'silent' }),
  });
  const url = `${await node.start()}/registry`;
  try {
    const { id } = await node.store.registry.register('healthcare.admission.opened-value', {
      schema: JSON.stringify(admissionSchema),
    });
    const codec = createAvroWireCodec(node.store.registry);
    const events = Array.from({ length: 1000 }, (_, i) => admission(i));
    const avroBytes = await Promise.all(events.map((e) => codec.encode(id, e)));
    const jsonBytes = events.map((e) => Buffer.from(JSON.stringify(e)));
    const avroSize = avroBytes.reduce((n, b) => n + b.length, 0) / events.length;
    const jsonSize = jsonBytes.reduce((n, b) => n + b.length, 0) / events.length;
    let i = 0;
    const avroEncode = await forMs(seconds * 1000, async () => {
      await codec.encode(id, events[i++ % events.length]);
    });
    i = 0;
    const avroDecode = await forMs(seconds * 1000, async () => {
      await codec.decode(avroBytes[i++ % avroBytes.length] as Buffer);
    });
    i = 0;
    const jsonEncode = await forMs(seconds * 1000, () => {
      Buffer.from(JSON.stringify(events[i++ % events.length]));
    });
    i = 0;
    const jsonDecode = await forMs(seconds * 1000, () => {
      JSON.parse((jsonBytes[i++ % jsonBytes.length] as Buffer).toString('utf8'));
    });
    const cold = await forMs(seconds * 1000, async () => {
      await new SchemaRegistryClient({ baseURLs: [url] }).getBySubjectAndId(
        'healthcare.admission.opened-value',
        id,
      );
    });
    const raw = await forMs(seconds * 1000, async () => {
      await (await fetch(`${url}/schemas/ids/${id}`)).json();
    });
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const warm = await forMs(seconds * 1000, async () => {
      await client.getBySubjectAndId('healthcare.admission.opened-value', id);
    });
    const note = 'healthcare admission event, 11 fields';
    const transported = await avroAgainstJson(node.transport, codec, id);
    return [
      ...transported,
      {
        name: 'registry: Avro wire bytes per event',
        value: Math.round(avroSize),
        unit: 'B',
        better: 'lower',
        note: `${note}; JSON ${Math.round(jsonSize)} B (${(avroSize / jsonSize).toFixed(2)}×)`,
      },
      { name: 'registry: JSON bytes per event', value: Math.round(jsonSize), unit: 'B', note },
      {
        name: 'registry: Avro encode (wire format)',
        value: rate(avroEncode.count, avroEncode.ms),
        unit: 'events/s',
        note: `JSON.stringify: ${rate(jsonEncode.count, jsonEncode.ms).toLocaleString('en-US')}/s`,
      },
      { name: 'registry: JSON encode', value: rate(jsonEncode.count, jsonEncode.ms), unit: 'events/s' },
      {
        name: 'registry: Avro decode (wire format)',
        value: rate(avroDecode.count, avroDecode.ms),
        unit: 'events/s',
        note: `JSON.parse: ${rate(jsonDecode.count, jsonDecode.ms).toLocaleString('en-US')}/s`,
      },
      { name: 'registry: JSON decode', value: rate(jsonDecode.count, jsonDecode.ms), unit: 'events/s' },
      {
        name: 'registry: lookups by id, client cache cold',
        value: rate(cold.count, cold.ms),
        unit: 'lookups/s',
        note: 'a new @confluentinc/schemaregistry client per lookup: one HTTP request each',
      },
      {
        name: 'registry: lookups by id, plain HTTP GET',
        value: rate(raw.count, raw.ms),
        unit: 'lookups/s',
        note: "fetch of /registry/schemas/ids/{id}, one after another: the node's own answer rate",
      },
      {
        name: 'registry: lookups by id, client cache warm',
        value: rate(warm.count, warm.ms),
        unit: 'lookups/s',
        note: 'one client: served from its cache',
      },
    ];
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
