// Atomic appends in a loop, in its own process, for the parent to SIGKILL mid-transaction. Each transaction
// writes <records> records of ~1 KB to each of the topic's three partitions, headers `txn` and `n`; with 20 KB
// produce requests one transaction spans several requests, so a kill mostly lands inside one. Prints
// `committed <txn>` once its append resolved.
import { pino } from 'pino';
import { createKafkaTransport } from '../../../src/transport/kafka/index.ts';

const [brokers, topic, transactionalId, recordsText] = process.argv.slice(2);
if (!brokers || !topic || !transactionalId || !recordsText)
  throw new Error('usage: atomic-writer.ts <brokers> <topic> <transactional id> <records per partition>');
const records = Number(recordsText);
const LANES = 2;
const value = new Uint8Array(1_000).fill(120);

const transport = createKafkaTransport({
  brokers: brokers.split(','),
  clientId: 'keel-test-atomic-writer',
  // Far longer than the test: only fencing by the next incarnation can end a transaction this one left open.
  producer: { transactionalId, transactionTimeoutMs: 600_000, maxBatchBytes: 20_000 },
  logger: pino({ level: 'warn' }, pino.destination(2)),
});

const lane = async (id: number): Promise<void> => {
  for (let i = 0; ; i++) {
    const txn = `${id}-${i}`;
    await transport.appendAtomically(
      [0, 1, 2].map((partition) => ({
        topic,
        partition,
        records: Array.from({ length: records }, (_, n) => ({
          key: txn,
          value,
          headers: { txn, n: String(n) },
        })),
      })),
    );
    process.stdout.write(`committed ${txn}\n`);
  }
};

await Promise.all(Array.from({ length: LANES }, (_, id) => lane(id)));
