// Child process for two-processes.int.spec.ts: publishes `count` events, a few appends in flight,
// event i to partition i % partitions with value `event-i`; prints `done` at the end.
// Usage: node publish-loop.ts <file> <topic> <partitions> <count>
import { createEmbeddedTransport } from '../embedded-transport.ts';

const [path, topic, partitionsArg, countArg] = process.argv.slice(2);
if (path === undefined || topic === undefined)
  throw new Error('usage: publish-loop.ts <file> <topic> <partitions> <count>');
const partitions = Number(partitionsArg);
const count = Number(countArg);
const encoder = new TextEncoder();

const transport = createEmbeddedTransport({ path });
let next = 0;
const worker = async (): Promise<void> => {
  while (next < count) {
    const id = next++;
    await transport.append([
      {
        topic,
        partition: id % partitions,
        records: [{ key: `k${id}`, value: encoder.encode(`event-${id}`), headers: {} }],
      },
    ]);
  }
};
// Ids are taken and queued in the same synchronous step, and flushes keep queue order, so within
// a partition offsets follow ids even with several appends in flight.
await Promise.all(Array.from({ length: 4 }, worker));
await transport.close();
process.stdout.write('done\n');
