// A consumer in its own process, as a service would run one: a Router in group `e2e` on the node's
// SQLite file. Prints `handled <id>` per PatientCreated event, and exits 0 once it has seen `count`.
import { pino } from 'pino';
import { catalog, PatientCreated } from '../../examples/catalog.ts';
import { createRouter } from '../../src/bus/router.ts';
import { createEmbeddedTransport } from '../../src/transport/embedded/index.ts';

const [dataFile, countText] = process.argv.slice(2);
if (!dataFile || !countText) throw new Error('usage: router-process.ts <sqlite file> <events to wait for>');
const expected = Number(countText);

const logger = pino({ level: 'warn' }, pino.destination(2));
const transport = createEmbeddedTransport({ path: dataFile, logger });
const router = createRouter({ transport, catalog, group: 'e2e', logger, shutdownSignals: [] });

let handled = 0;
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await router.close();
  await transport.close();
  process.exit(0);
};

router.on(PatientCreated, (event) => {
  process.stdout.write(`handled ${event.id}\n`);
  handled += 1;
  // Stop after this handler returns, so its offset is committed on close.
  if (handled >= expected) setImmediate(() => void stop());
});
await router.start();
process.stdout.write('router started\n');
