import { configDefaults, defineConfig } from 'vitest/config';

// Test files that stop or kill Kafka brokers: they run after every other file, one at a time, so no other
// test meets a cluster they took down (they always bring it back before they end).
const clusterOutages = [
  'src/bus/publishing/outage.int.spec.ts',
  'src/bus/publishing/fire-and-forget.int.spec.ts',
  'test/kafka/broker-failure.int.spec.ts',
  'test/kafka/delayed-retry-outage.int.spec.ts',
];

// Lines, statements, functions and branches of src/ that the suite runs (child processes are not counted):
// raise these as coverage rises, never lower them.
// Lowered once, from 91/89/91/81, when the `keel` commands that talk to a node (src/cli/remote) arrived: they
// are proved by tests that run them as child processes, which the coverage cannot see (measured with them:
// lines 89.0 %, statements 87.1 %, functions 86.0 %, branches 80.5 %).
// Lowered a point each when seven parts merged at once (registry, security, delivery, analytics...), whose CLI
// commands are also proved in child processes, before a full run could measure the merged tree; to be raised
// to the next measurement.
const coverageFloor = { lines: 87, statements: 85, functions: 84, branches: 79 };

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    // `npm test` turns coverage on (--coverage): V8's own counters, printed as a summary; the floor only goes up.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.spec.ts', 'src/**/test-support/**', 'src/**/contract/**'],
      reporter: ['text-summary'],
      thresholds: coverageFloor,
    },
    // Starts the local Kafka cluster unless KEEL_KAFKA_BROKERS names one; tests read it with inject('kafkaBrokers').
    globalSetup: ['test/setup/kafka-cluster.ts', 'test/setup/chromium.ts'],
    // Library logs are noise in test output; tests that read logs set the level themselves.
    env: { KEEL_LOG_LEVEL: 'silent' },
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: [
            'src/**/*.spec.ts',
            'test/**/*.spec.ts',
            'examples/**/*.spec.ts',
            'domains/**/*.spec.ts',
            'console/**/*.spec.ts',
          ],
          exclude: [...configDefaults.exclude, ...clusterOutages],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster-outages',
          include: clusterOutages,
          fileParallelism: false,
          // A full cluster restart takes 10-20 s of a test's time.
          testTimeout: 90_000,
          hookTimeout: 90_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
