import type { Database } from 'better-sqlite3';
import type { TopicCompression } from '../../transport.ts';

/** A topic as stored in the `topics` table. */
export interface TopicRow {
  id: number;
  name: string;
  partitions: number;
  retentionMs: number | null;
  retentionBytes: number | null;
  compacted: boolean;
  /** The topic's own codec, or null when the transport's compression applies. */
  compression: TopicCompression | null;
}

/** Values for a new topic row. */
export interface NewTopic {
  name: string;
  partitions: number;
  retentionMs: number | null;
  retentionBytes: number | null;
  compacted: boolean;
  compression: TopicCompression | null;
  createdAt: number;
}

/** SQL for creating and looking up topics. */
export interface TopicStatements {
  byName(name: string): TopicRow | undefined;
  all(): TopicRow[];
  /** Inserts the topic and its partitions unless a topic of that name exists; true when created. */
  create(topic: NewTopic): boolean;
  /** Largest topic id: it moves when any process creates a topic. */
  lastId(): number;
}

interface RawTopic {
  id: number;
  name: string;
  partitions: number;
  retention_ms: number | null;
  retention_bytes: number | null;
  compacted: number;
  compression: TopicCompression | null;
}

const columns = 'id, name, partitions, retention_ms, retention_bytes, compacted, compression';

function toRow(raw: RawTopic): TopicRow {
  return {
    id: raw.id,
    name: raw.name,
    partitions: raw.partitions,
    retentionMs: raw.retention_ms,
    retentionBytes: raw.retention_bytes,
    compacted: raw.compacted === 1,
    compression: raw.compression,
  };
}

/** Prepares the topic statements on one connection. */
export function prepareTopicStatements(db: Database): TopicStatements {
  const byName = db.prepare<[string], RawTopic>(`SELECT ${columns} FROM topics WHERE name = ?`);
  const all = db.prepare<[], RawTopic>(`SELECT ${columns} FROM topics ORDER BY name`);
  const insertTopic = db.prepare(
    `INSERT INTO topics (name, partitions, retention_ms, retention_bytes, compacted, compression, created_at)
     VALUES (@name, @partitions, @retentionMs, @retentionBytes, @compacted, @compression, @createdAt)
     ON CONFLICT (name) DO NOTHING`,
  );
  const insertPartition = db.prepare(
    'INSERT INTO partitions (topic_id, partition_index) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const lastId = db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM topics').pluck();
  return {
    byName: (name) => {
      const raw = byName.get(name);
      return raw === undefined ? undefined : toRow(raw);
    },
    all: () => all.all().map(toRow),
    create: (topic) => {
      const result = insertTopic.run({ ...topic, compacted: topic.compacted ? 1 : 0 });
      if (result.changes === 0) return false;
      for (let partition = 0; partition < topic.partitions; partition++) {
        insertPartition.run(result.lastInsertRowid, partition);
      }
      return true;
    },
    lastId: () => lastId.get() ?? 0,
  };
}
