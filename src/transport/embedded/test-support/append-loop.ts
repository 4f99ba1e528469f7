// Child process for durability.int.spec.ts: appends single events with several appends in flight
// and prints `ack <partition> <offset> <id>` for every append the transport acknowledged.
// Usage: node append-loop.ts <file> <topic> <partitions> <concurrency>
import { createEmbeddedTransport } from '../embedded-transport.ts';
import { durabilityValue } from './durability-value.ts';

const [path, topic, partitionsArg, concurrencyArg] = process.argv.slice(2);
if (path === undefined || topic === undefined)
  throw new Error('usage: append-loop.ts <file> <topic> <partitions> <concurrency>');
const partitions = Number(partitionsArg ?? '2');
const concurrency = Number(concurrencyArg ?? '16');

const transport = createEmbeddedTransport({ path });
await transport.ensureTopics([{ name: topic, partitions }]);
process.stdout.write('ready\n');

let next = 0;
const worker = async (): Promise<void> => {
  for (;;) {
    const id = next++;
    const partition = id % partitions;
    const [offsets] = await transport.append([
      {
        topic,
        partition,
        records: [{ key: `key-${id % 97}`, value: durabilityValue(id), headers: { id: `${id}` } }],
      },
    ]);
    // Pipes are written synchronously on Linux: once this returns, the parent will see the line.
    process.stdout.write(`ack ${partition} ${offsets?.[0]} ${id}\n`);
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));
