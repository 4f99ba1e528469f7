// Child process for two-processes.int.spec.ts: one consumer group member that prints what it does.
//   assigned <p,p,...> | revoked <p,p,...>     rebalance callbacks
//   record <partition> <offset> <value>       each record, once processed
//   commit <partition> <offset>               each commit, once it is durable
// It commits after every batch and, on revocation, before letting partitions go. A `stop` line on
// stdin closes it cleanly (prints `closed`).
// Usage: node consume-loop.ts <file> <topic> <group> <sessionTimeoutMs>
import { createEmbeddedTransport } from '../embedded-transport.ts';

const [path, topic, group, sessionArg] = process.argv.slice(2);
if (path === undefined || topic === undefined || group === undefined) {
  throw new Error('usage: consume-loop.ts <file> <topic> <group> <sessionTimeoutMs>');
}
const decoder = new TextDecoder();
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const transport = createEmbeddedTransport({ path });
const processed = new Map<number, bigint>();
const commit = async (partitions: readonly number[]): Promise<void> => {
  const offsets = partitions.flatMap((partition) => {
    const offset = processed.get(partition);
    return offset === undefined ? [] : [{ topic, partition, offset }];
  });
  if (offsets.length === 0) return;
  await consumer.commit(offsets);
  for (const o of offsets) say(`commit ${o.partition} ${o.offset}`);
};
const consumer = transport.consumer({
  group,
  topics: [topic],
  sessionTimeoutMs: Number(sessionArg ?? '10000'),
  maxRecords: 50,
  onPartitionsAssigned: async (partitions) => {
    say(`assigned ${partitions.map((p) => p.partition).join(',')}`);
  },
  onPartitionsRevoked: async (partitions) => {
    await commit(partitions.map((p) => p.partition));
    say(`revoked ${partitions.map((p) => p.partition).join(',')}`);
  },
});

let running = true;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  if (chunk.includes('stop')) running = false;
});

while (running) {
  const records = await consumer.poll(50);
  const touched = new Set<number>();
  for (const record of records) {
    say(
      `record ${record.partition} ${record.offset} ${record.value === null ? '' : decoder.decode(record.value)}`,
    );
    processed.set(record.partition, record.offset + 1n);
    touched.add(record.partition);
  }
  await commit([...touched]);
}
await transport.close();
say('closed');
process.stdin.destroy();
