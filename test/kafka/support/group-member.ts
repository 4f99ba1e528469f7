// One member of a consumer group in its own process, as a service replica would run: a Router on the
// Kafka transport. Prints `assignment <n>` when its count of the topic's partitions changes and `handled <id> <partition>
// <offset>` per event, before the handler returns (so before its offset can be committed).
import { pino } from 'pino';
import { createRouter } from '../../../src/bus/router.ts';
import { createKafkaTransport } from '../../../src/transport/kafka/index.ts';
import { PaddedEvent, paddedCatalog } from './padded-catalog.ts';

const [brokers, topicName, group, sessionText] = process.argv.slice(2);
if (!brokers || !topicName || !group || !sessionText)
  throw new Error('usage: group-member.ts <brokers> <topic> <group> <session timeout ms>');

const logger = pino({ level: 'warn' }, pino.destination(2));
const transport = createKafkaTransport({
  brokers: brokers.split(','),
  clientId: 'keel-test-member',
  consumer: { heartbeatIntervalMs: 250 },
  logger,
});
const { catalog } = paddedCatalog(topicName);
const router = createRouter({
  transport,
  catalog,
  group,
  logger,
  shutdownSignals: [],
  sessionTimeoutMs: Number(sessionText),
  commitIntervalMs: 100,
  // One event at a time, about a millisecond each: slow enough that the parent can kill it mid-stream.
  concurrency: 1,
  circuitBreaker: false,
  // No retry topics: the group's assignment is the event topic's partitions alone.
  delayedRetries: [],
});
router.on(PaddedEvent, async (event, context) => {
  process.stdout.write(`handled ${event.id} ${context.partition} ${context.offset}\n`);
  await new Promise((resolve) => setTimeout(resolve, 1));
});
await router.start();
let partitions = -1;
setInterval(() => {
  const now = router.health().assignment.filter((tp) => tp.topic === topicName).length;
  if (now !== partitions) process.stdout.write(`assignment ${now}\n`);
  partitions = now;
}, 50);
