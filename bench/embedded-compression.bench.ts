// Embedded log compression on healthcare events: the same JSON CloudEvents appended to a SQLite log whose
// topic stores values with each codec, then read back; throughput and the bytes the file keeps, one run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopicCompression } from '../src/events/define-topic.ts';
import { fromRecord } from '../src/events/kafka-binding.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import type { OutgoingRecord } from '../src/transport/transport.ts';
import type { BenchResult } from './stats.ts';

const BATCH = 500;

/** Appends the records to a topic stored with one codec, reads them back; rates and bytes kept. */
async function throughEmbeddedCodec(codec: TopicCompression, records: readonly OutgoingRecord[]) {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-compression-'));
  const transport = createEmbeddedTransport({
    path: join(dir, 'log.db'),
    synchronous: 'normal',
    maintenanceIntervalMs: 0,
  });
  try {
    await transport.ensureTopics([{ name: 'admissions', partitions: 1, compression: codec }]);
    const started = performance.now();
    for (let from = 0; from < records.length; from += BATCH) {
      await transport.append([
        { topic: 'admissions', partition: 0, records: records.slice(from, from + BATCH) },
      ]);
    }
    const appended = performance.now();
    let offset = 0n;
    while (offset < BigInt(records.length)) {
      const batch = await transport.read('admissions', 0, offset, 2_000);
      for (const record of batch) fromRecord(record);
      offset += BigInt(batch.length);
    }
    const read = performance.now();
    const [size] = await transport.sizes('admissions');
    return {
      publish: Math.round((records.length / (appended - started)) * 1000),
      consume: Math.round((records.length / (read - appended)) * 1000),
      bytes: size?.bytes ?? 0,
    };
  } finally {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each codec's append and read rates and its stored size against uncompressed, on the embedded log. */
export async function embeddedCompressionBenchmarks(
  records: readonly OutgoingRecord[],
  codecs: readonly TopicCompression[],
): Promise<BenchResult[]> {
  const runs = new Map<TopicCompression, Awaited<ReturnType<typeof throughEmbeddedCodec>>>();
  // Once untimed first, so `none` (measured first) does not pay the warm-up alone.
  await throughEmbeddedCodec('zstd', records.slice(0, 2_000));
  for (const codec of codecs) runs.set(codec, await throughEmbeddedCodec(codec, records));
  const plain = runs.get('none')!;
  const count = records.length;
  return codecs.flatMap((codec) => {
    const run = runs.get(codec)!;
    return [
      {
        name: `embedded compression ${codec}: publish`,
        value: run.publish,
        unit: 'events/s',
        note: `${(run.publish / plain.publish).toFixed(2)}× uncompressed; SQLite synchronous=normal, batches of ${BATCH}, 1 partition`,
      },
      {
        name: `embedded compression ${codec}: consume (read, decompress, decode)`,
        value: run.consume,
        unit: 'events/s',
        note: `${(run.consume / plain.consume).toFixed(2)}× uncompressed`,
      },
      {
        name: `embedded compression ${codec}: bytes kept per event (key + value + headers)`,
        value: Math.round(run.bytes / count),
        unit: 'B',
        note: `ratio ${(plain.bytes / run.bytes).toFixed(2)}× against uncompressed (${Math.round(plain.bytes / count)} B)`,
      },
    ];
  });
}
