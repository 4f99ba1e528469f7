// Compression codecs on healthcare events: the same JSON CloudEvents appended with each codec to the embedded
// log and to the Kafka cluster, then read back; throughput and the bytes kept, side by side in one run.
import { randomBytes } from 'node:crypto';
import type { TopicCompression } from '../src/events/define-topic.ts';
import { fromRecord, toRecord } from '../src/events/kafka-binding.ts';
import { createKafkaTransport } from '../src/transport/kafka/kafka-transport.ts';
import type { OutgoingRecord } from '../src/transport/transport.ts';
import { embeddedCompressionBenchmarks } from './embedded-compression.bench.ts';
import { benchBrokers } from './kafka.bench.ts';
import { admission } from './registry.bench.ts';
import type { BenchResult } from './stats.ts';

const EVENTS = 20_000;
const BATCH = 500;
const codecs: readonly TopicCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The bench's events as records, encoded once so every codec compresses the same bytes. */
function admissionRecords(): OutgoingRecord[] {
  return Array.from({ length: EVENTS }, (_, i) =>
    toRecord({
      specversion: '1.0',
      id: `adm-event-${i}`,
      source: 'urn:keel:admissions',
      type: 'healthcare.admission.opened',
      datacontenttype: 'application/json',
      partitionkey: admission(i).patientId,
      data: admission(i),
    }),
  );
}

/** Appends the records with one codec (the topic stores with it too), reads them back; rates and bytes kept. */
async function throughCodec(brokers: string[], codec: TopicCompression, records: readonly OutgoingRecord[]) {
  const transport = createKafkaTransport({
    brokers,
    clientId: 'keel-bench-compression',
    producer: { compression: codec },
  });
  const topic = `keel-bench-compression-${codec}-${randomBytes(3).toString('hex')}`;
  try {
    await transport.ensureTopics([{ name: topic, partitions: 1, compression: codec }]);
    const started = performance.now();
    for (let from = 0; from < records.length; from += BATCH) {
      await transport.append([{ topic, partition: 0, records: records.slice(from, from + BATCH) }]);
    }
    const appended = performance.now();
    let offset = 0n;
    while (offset < BigInt(records.length)) {
      const batch = await transport.read(topic, 0, offset, 2_000);
      for (const record of batch) fromRecord(record);
      offset += BigInt(batch.length);
    }
    const read = performance.now();
    const [size] = await transport.sizes(topic);
    return {
      publish: Math.round((records.length / (appended - started)) * 1000),
      consume: Math.round((records.length / (read - appended)) * 1000),
      bytes: size?.bytes ?? 0,
    };
  } finally {
    await transport.deleteTopics([topic]).catch(() => undefined);
    await transport.close();
  }
}

/** Each codec's publish and consume rates and its stored size against uncompressed, embedded then on the cluster. */
export async function compressionBenchmarks(): Promise<BenchResult[]> {
  const brokers = await benchBrokers();
  if (brokers === undefined)
    throw new Error('compression bench needs a Kafka cluster: set KEEL_KAFKA_BROKERS');
  const records = admissionRecords();
  const embedded = await embeddedCompressionBenchmarks(records, codecs);
  const raw = records.reduce((n, r) => n + (r.value?.length ?? 0), 0);
  const runs = new Map<TopicCompression, Awaited<ReturnType<typeof throughCodec>>>();
  for (const codec of codecs) runs.set(codec, await throughCodec(brokers, codec, records));
  const plain = runs.get('none')!;
  const note = `${EVENTS.toLocaleString('en-US')} admission events (JSON CloudEvents, ${Math.round(raw / EVENTS)} B of data each), batches of ${BATCH}, 1 partition, replication 3`;
  const kafka = codecs.flatMap((codec) => {
    const run = runs.get(codec)!;
    return [
      {
        name: `compression ${codec}: publish`,
        value: run.publish,
        unit: 'events/s',
        note: `${(run.publish / plain.publish).toFixed(2)}× uncompressed; ${note}`,
      },
      {
        name: `compression ${codec}: consume (fetch and decode)`,
        value: run.consume,
        unit: 'events/s',
        note: `${(run.consume / plain.consume).toFixed(2)}× uncompressed`,
      },
      {
        name: `compression ${codec}: bytes kept per event on the broker`,
        value: Math.round(run.bytes / EVENTS),
        unit: 'B',
        note: `ratio ${(plain.bytes / run.bytes).toFixed(2)}× against uncompressed (${Math.round(plain.bytes / EVENTS)} B)`,
      },
    ];
  });
  return [...embedded, ...kafka];
}
