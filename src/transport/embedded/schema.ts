import type { Database } from 'better-sqlite3';
import { UnsupportedSchemaVersionError } from './errors.ts';

/** One schema step; `version` is what `PRAGMA user_version` holds once it is applied. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Every schema step, oldest first. Append only: a shipped migration has run on users' files,
 * so changing it would leave them with a schema this code does not expect (a test pins each one).
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'topics, partitions, the record log and consumer groups',
    sql: `
      CREATE TABLE topics (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        partitions INTEGER NOT NULL CHECK (partitions >= 1),
        retention_ms INTEGER,
        retention_bytes INTEGER,
        compacted INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      ) STRICT;

      -- log_start/log_end bound the partition; size_bytes is the sum of records.size (retention by size);
      -- compacted_through/tombstones_due_at let maintenance skip partitions with nothing to compact.
      CREATE TABLE partitions (
        topic_id INTEGER NOT NULL REFERENCES topics (id),
        partition_index INTEGER NOT NULL,
        log_start INTEGER NOT NULL DEFAULT 0,
        log_end INTEGER NOT NULL DEFAULT 0,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        compacted_through INTEGER NOT NULL DEFAULT 0,
        tombstones_due_at INTEGER,
        PRIMARY KEY (topic_id, partition_index)
      ) STRICT, WITHOUT ROWID;

      -- Clustered on (topic, partition, offset): appends go to the end of a range and reads are range scans.
      CREATE TABLE records (
        topic_id INTEGER NOT NULL,
        partition_index INTEGER NOT NULL,
        record_offset INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        size INTEGER NOT NULL,
        key TEXT,
        headers TEXT,
        value BLOB,
        PRIMARY KEY (topic_id, partition_index, record_offset)
      ) STRICT, WITHOUT ROWID;

      -- generation moves whenever members join or leave or partitions are released, so members
      -- know to look at the assignment again; next_epoch numbers each acquisition of a partition.
      CREATE TABLE consumer_groups (
        group_id TEXT PRIMARY KEY,
        generation INTEGER NOT NULL DEFAULT 0,
        next_epoch INTEGER NOT NULL DEFAULT 1
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE group_members (
        group_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        topics TEXT NOT NULL,
        session_timeout_ms INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (group_id, member_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE partition_owners (
        group_id TEXT NOT NULL,
        topic_id INTEGER NOT NULL,
        partition_index INTEGER NOT NULL,
        member_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic_id, partition_index)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE committed_offsets (
        group_id TEXT NOT NULL,
        topic_id INTEGER NOT NULL,
        partition_index INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        committed_at INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic_id, partition_index)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'compressed values: the codec of each record, the compression of each topic',
    sql: `
      -- NULL: the transport's own compression applies (as a Kafka topic without compression.type).
      ALTER TABLE topics ADD COLUMN compression TEXT
        CHECK (compression IN ('none', 'gzip', 'snappy', 'lz4', 'zstd'));
      -- Kafka's codec numbers (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd); rows written before are plain.
      ALTER TABLE records ADD COLUMN codec INTEGER NOT NULL DEFAULT 0 CHECK (codec BETWEEN 0 AND 4);
    `,
  },
];

/** Schema version this code writes and expects. */
export const schemaVersion: number = migrations.at(-1)?.version ?? 0;

/**
 * Brings the file's schema up to `schemaVersion`. Runs under BEGIN IMMEDIATE so two processes
 * opening a new file at once do not both migrate; refuses files written by a newer Keel.
 */
export function migrate(db: Database): void {
  const read = (): number => db.pragma('user_version', { simple: true }) as number;
  const check = (version: number): void => {
    if (version > schemaVersion) throw new UnsupportedSchemaVersionError(db.name, version, schemaVersion);
  };
  check(read());
  if (read() === schemaVersion) return;
  db.transaction(() => {
    const current = read();
    check(current);
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
}
