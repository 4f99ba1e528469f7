import { spawnSync } from 'node:child_process';
import { Admin } from '@platformatic/kafka';
import BetterSqlite3 from 'better-sqlite3';

/** Bootstrap servers of the test cluster. */
export function kafkaBrokers(): string[] {
  const brokers = process.env.KEEL_KAFKA_BROKERS?.trim() || '127.0.0.1:19092,127.0.0.1:29092,127.0.0.1:39092';
  return brokers.split(',').map((broker) => broker.trim());
}

/** Every record value of a Kafka topic as kcat (a client Keel did not write) reads it, as text. */
export function rawKafkaValues(topic: string): string[] {
  const run = spawnSync(
    'kcat',
    ['-C', '-b', kafkaBrokers().join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kcat exited ${run.status}: ${run.stderr}`);
  return run.stdout.split('\n').filter((line) => line !== '');
}

/** Every record value of the embedded log's SQLite file, read with a connection of its own. */
export function rawEmbeddedValues(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return (db.prepare('SELECT value FROM records').all() as { value: Buffer | null }[]).map((row) =>
      Buffer.from(row.value ?? Buffer.alloc(0)).toString('utf8'),
    );
  } finally {
    db.close();
  }
}

/** Every stored event's JSON in a SQLite event store file. */
export function rawSqliteStoreEvents(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return (db.prepare('SELECT event FROM store_events ORDER BY position').all() as { event: string }[]).map(
      (row) => row.event,
    );
  } finally {
    db.close();
  }
}

/** Deletes test topics from the shared cluster (a courtesy: names are unique per run). */
export async function deleteKafkaTopics(topics: readonly string[]): Promise<void> {
  const admin = new Admin({
    clientId: 'keel-phi-test-cleanup',
    bootstrapBrokers: kafkaBrokers(),
    retries: 1,
  });
  try {
    await admin.deleteTopics({ topics: [...topics] });
  } catch {
    // Leftovers never break a later run: topic names are unique.
  } finally {
    await admin.close();
  }
}
