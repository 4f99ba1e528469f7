// A router in its own process, for the SIGTERM test: prints `start <seq>` and `done <seq>` around a slow handler.
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createRouter } from '../router.ts';
import { CounterIncremented, counterCatalog } from './counter-catalog.ts';

const [path, handlerMs = '300'] = process.argv.slice(2);
const transport = createEmbeddedTransport({ path: path! });
// The router's own SIGTERM handler closes it gracefully and then exits the process.
const router = createRouter({ transport, catalog: counterCatalog, group: 'sigterm', concurrency: 2 });
router.on(CounterIncremented, async (event) => {
  process.stdout.write(`start ${event.data!.seq}\n`);
  await new Promise((resolve) => setTimeout(resolve, Number(handlerMs)));
  process.stdout.write(`done ${event.data!.seq}\n`);
});
await router.start();
process.stdout.write('ready\n');
