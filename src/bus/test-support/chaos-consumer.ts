// A router in its own process for the chaos test: its handler throws on 20 % of attempts, always
// throws for seq % 2000 === 7 (those must end in the DLQ), and writes its effect exactly once per
// event id through the inbox's transaction. The parent SIGKILLs it at random moments.
import { pino } from 'pino';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createSqliteInbox } from '../inbox/sqlite-inbox.ts';
import { createRouter } from '../router.ts';
import { CounterIncremented, counterCatalogFor } from './counter-catalog.ts';

const [path, prefix] = process.argv.slice(2) as [string, string];
const logger = pino({ level: 'silent' });
const transport = createEmbeddedTransport({ path, logger });
const inbox = createSqliteInbox({ path });
inbox.db.exec('CREATE TABLE IF NOT EXISTS chaos_effects (event_id TEXT NOT NULL, seq INTEGER NOT NULL)');
const recordEffect = inbox.db.prepare('INSERT INTO chaos_effects (event_id, seq) VALUES (?, ?)');
const { catalog } = counterCatalogFor(prefix, 6);
const group = `${prefix}-chaos`;
const router = createRouter({
  transport,
  catalog,
  group,
  logger,
  concurrency: 32,
  sessionTimeoutMs: 1_000,
  commitIntervalMs: 20,
  retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
  delayedRetries: [50, 100],
  circuitBreaker: false,
});
router.on(CounterIncremented, (event) => {
  const seq = event.data!.seq;
  if (seq % 2000 === 7) throw new Error(`event ${seq} is poison`);
  if (Math.random() < 0.2) throw new Error('transient failure');
  inbox.runOnce(group, event.id, () => recordEffect.run(event.id, seq));
});
await router.start();
process.stdout.write('ready\n');
