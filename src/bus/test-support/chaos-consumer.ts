// A router in its own process for the chaos tests: its handler throws on 20 % of attempts and always for
// the poison events (seq % 1999 === 7) until the parent heals them, and writes its effect exactly once per
// event id through the inbox's transaction, in a SQLite file with the order it was made in. The parent
// SIGKILLs it at random moments. Arguments: transport (`embedded` | `kafka`), SQLite file, topic prefix,
// and an optional `slow` (handlers of keys k0–k9 take 200 ms, to hold chains in flight for a rebalance).
import { pino } from 'pino';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createKafkaTransport } from '../../transport/kafka/index.ts';
import type { Transport } from '../../transport/transport.ts';
import { createSqliteInbox } from '../inbox/sqlite-inbox.ts';
import { createRouter } from '../router.ts';
import { CounterIncremented, counterCatalogFor } from './counter-catalog.ts';
import { kafkaBusTestOptions } from './kafka-test-transport.ts';

const [kind, path, prefix, mode] = process.argv.slice(2) as [string, string, string, string | undefined];
const logger = pino({ level: process.env.CHAOS_LOG ?? 'silent' }, pino.destination(2));
const transport: Transport =
  kind === 'kafka'
    ? createKafkaTransport({
        ...kafkaBusTestOptions(),
        // A killed member's open transaction holds read_committed readers back until it times out.
        producer: { deliveryTimeoutMs: 10_000, transactionTimeoutMs: 3_000 },
      })
    : createEmbeddedTransport({ path, logger });
const inbox = createSqliteInbox({ path: kind === 'kafka' ? path : path });
inbox.db.exec(`CREATE TABLE IF NOT EXISTS chaos_effects (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
  pid INTEGER NOT NULL DEFAULT 0, topic TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL DEFAULT 0)`);
inbox.db.exec('CREATE TABLE IF NOT EXISTS chaos_healed (healed INTEGER NOT NULL)');
const recordEffect = inbox.db.prepare(
  'INSERT INTO chaos_effects (event_id, key, seq, pid, topic, at) VALUES (?, ?, ?, ?, ?, ?)',
);
const healed = inbox.db.prepare<[], { healed: number }>('SELECT healed FROM chaos_healed LIMIT 1');
const { catalog } = counterCatalogFor(prefix, 6);
const group = `${prefix}-chaos`;
const router = createRouter({
  transport,
  catalog,
  group,
  logger,
  concurrency: 32,
  // Long enough that a member starved of CPU on a loaded machine is not expelled while it still works.
  sessionTimeoutMs: kind === 'kafka' ? 6_000 : 3_000,
  commitIntervalMs: 20,
  retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
  delayedRetries: [50, 100],
  circuitBreaker: false,
});
router.on(CounterIncremented, async (event, context) => {
  const { key, seq } = event.data!;
  // Handled before (a redelivery after a kill): done, whatever the dice say now.
  if (await inbox.seen(group, event.id)) return;
  if (mode === 'slow' && /^k\d$/.test(key)) await new Promise((resolve) => setTimeout(resolve, 200));
  if (seq % 1999 === 7 && healed.get() === undefined) throw new Error(`event ${seq} is poison`);
  if (Math.random() < 0.2) throw new Error('transient failure');
  inbox.runOnce(group, event.id, () =>
    recordEffect.run(event.id, key, seq, process.pid, `${context.topic}/${context.delivery}`, Date.now()),
  );
});
await router.start();
process.stdout.write('ready\n');
if (process.env.CHAOS_LOG !== undefined) {
  setInterval(() => logger.warn({ health: router.health() }, 'chaos consumer health'), 2_000).unref();
}
