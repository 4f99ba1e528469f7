import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import { roundTrip } from './support/round-trip.ts';

const SERVICE = fileURLToPath(new URL('./python/ce_service.py', import.meta.url));
// Debian's package installs for the system interpreter, not for one a version manager puts first on PATH.
const PYTHON = '/usr/bin/python3';

/** Fails with how to install it when Debian's python3-confluent-kafka is missing. */
function requireConfluentKafka(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { encoding: 'utf8' });
  if (probe.status !== 0)
    throw new Error(
      `the Python interop test needs Debian's python3-confluent-kafka for ${PYTHON}: ` +
        `run \`apt-get update && apt-get install -y python3-confluent-kafka\` (${probe.stderr.trim() || probe.error})`,
    );
}

describe('interop with a Python service on confluent-kafka (CloudEvents Kafka binding, binary mode)', () => {
  const harness = kafkaTestHarness('py-interop');
  beforeAll(() => requireConfluentKafka());
  afterAll(() => harness.cleanup());

  it('consumes events Keel published and publishes follow-ups a Keel Router handles, correlation and trace carried', async () => {
    await roundTrip(harness, 'urn:python:confluent-kafka', async (service) => {
      const { stdout } = await promisify(execFile)(
        PYTHON,
        [
          SERVICE,
          '--brokers',
          testBrokers().join(','),
          '--group',
          service.group,
          '--in-topic',
          service.inTopic,
          '--out-topic',
          service.outTopic,
          '--count',
          String(service.count),
        ],
        { timeout: 90_000 },
      );
      return stdout;
    });
  });
});
