// A pattern engine in a process of its own, for the crash proofs: it runs `reviewRules` over a lab topic of
// an embedded transport file (or Kafka) and prints `started` once consuming. The proofs SIGKILL it.
//
// Usage: node analytics-process.ts <embedded <bus path> | kafka <brokers>> <state path> <lab topic> <match topic> <group>

import { pino } from 'pino';
import { createCatalog } from '../../events/catalog.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createKafkaTransport } from '../../transport/kafka/index.ts';
import { createPatternEngine } from '../patterns/pattern-engine.ts';
import { labTopic, reviewRules } from './lab-events.ts';

const [kind, location, statePath, topic, matchTopic, group] = process.argv.slice(2);
if (!kind || !location || !statePath || !topic || !matchTopic || !group) {
  process.stderr.write(
    'usage: analytics-process.ts <embedded|kafka> <location> <state> <topic> <match topic> <group>\n',
  );
  process.exit(2);
}
const transport =
  kind === 'kafka'
    ? createKafkaTransport({
        brokers: location.split(','),
        clientId: 'keel-analytics-proof',
        logger: pino({ level: 'silent' }),
      })
    : createEmbeddedTransport({ path: location, synchronous: 'normal', maintenanceIntervalMs: 0 });
const engine = createPatternEngine({
  transport,
  catalog: createCatalog({ topics: [labTopic(topic)] }),
  rules: reviewRules,
  statePath,
  group,
  topic: matchTopic,
  absenceLatenessMs: 365 * 86_400_000,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
await engine.start();
process.stdout.write('started\n');
process.once('SIGTERM', async () => {
  await engine.close();
  await transport.close();
  process.exit(0);
});
