import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import { roundTrip } from './support/round-trip.ts';

const PROJECT = fileURLToPath(new URL('./java/', import.meta.url));
const MAIN = 'dev.keel.interop.CloudEventsKafkaService';

/**
 * Builds the Java service with the project's own pom (Maven Central: io.cloudevents:cloudevents-kafka and
 * org.apache.kafka:kafka-clients), its dependencies copied to target/lib; fails saying how when Java or Maven
 * is missing.
 */
function buildJavaService(): void {
  for (const [tool, args] of [
    ['java', ['-version']],
    ['mvn', ['-v']],
  ] as const) {
    const probe = spawnSync(tool, args, { encoding: 'utf8' });
    if (probe.error || probe.status !== 0)
      throw new Error(
        `the Java interop test needs ${tool} (Java 17+ and Maven): install them (e.g. \`apt-get install -y openjdk-17-jdk-headless maven\`)`,
      );
  }
  const build = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      `${PROJECT}pom.xml`,
      'package',
      'dependency:copy-dependencies',
      '-DoutputDirectory=target/lib',
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (build.status !== 0)
    throw new Error(`building ${PROJECT} with Maven failed:\n${build.stdout}\n${build.stderr}`);
}

describe('interop with a Java service on the official CloudEvents SDK Kafka binding (cloudevents-kafka)', () => {
  const harness = kafkaTestHarness('java-interop');
  beforeAll(() => buildJavaService(), 600_000);
  afterAll(() => harness.cleanup());

  it('consumes events Keel published and publishes follow-ups a Keel Router handles, correlation and trace carried', async () => {
    await roundTrip(harness, 'urn:java:cloudevents-kafka', async (service) => {
      const classpath = `${PROJECT}target/classes:${PROJECT}target/lib/*`;
      const { stdout } = await promisify(execFile)(
        'java',
        [
          '-cp',
          classpath,
          MAIN,
          testBrokers().join(','),
          service.group,
          service.inTopic,
          service.outTopic,
          String(service.count),
        ],
        { timeout: 90_000 },
      );
      return stdout;
    });
  });
});
