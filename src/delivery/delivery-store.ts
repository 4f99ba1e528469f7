import type { Database } from 'better-sqlite3';
import { runSqliteMigrations } from '../sql/sqlite/migration-runner.ts';
import { openSqlite } from '../sql/sqlite/open-sqlite.ts';
import { deliveryMigrations } from './delivery-schema.ts';
import {
  type Subscription,
  type SubscriptionSpec,
  type SubscriptionStatus,
  subscriptionGroup,
} from './subscription.ts';

/** What became of one request to an endpoint. */
export type AttemptOutcome = 'delivered' | 'failed' | 'gone';

/** One request made to a subscription's endpoint. */
export interface DeliveryAttempt {
  /** Increasing with time. */
  id: number;
  subscription: string;
  eventId: string;
  eventType: string;
  partitionKey: string | undefined;
  /** `live` from the subscription's group, `replay` from a replay of a range. */
  kind: 'live' | 'replay';
  outcome: AttemptOutcome;
  /** HTTP status, or undefined when no answer came. */
  status: number | undefined;
  latencyMs: number;
  /** The start of the answer's body. */
  excerpt: string;
  /** Why no answer came (timeout, network), or undefined. */
  error: string | undefined;
  /** Milliseconds since the epoch. */
  at: number;
}

/** Which attempts to list: newest first, `limit` after the attempt id `before`. */
export interface AttemptQuery {
  eventId?: string;
  outcome?: AttemptOutcome;
  before?: number;
  limit: number;
}

/** Subscriptions and attempts, in SQLite. */
export interface DeliveryStore {
  list(): Subscription[];
  get(name: string): Subscription | undefined;
  /** Inserts a subscription; false when the name is taken (nothing written). */
  insert(name: string, spec: SubscriptionSpec, now: number): boolean;
  /** Replaces the spec of a subscription; false when it does not exist. */
  replace(name: string, spec: SubscriptionSpec, now: number): boolean;
  setStatus(name: string, status: SubscriptionStatus, reason: string | undefined, now: number): boolean;
  remove(name: string): boolean;
  /** Queues an attempt; written with others within milliseconds, in one transaction. */
  record(attempt: Omit<DeliveryAttempt, 'id'>): void;
  /** Writes the queued attempts now. */
  flush(): void;
  attempts(subscription: string, query: AttemptQuery): DeliveryAttempt[];
  /** Deletes attempts older than `before` (milliseconds since the epoch); returns how many. */
  pruneAttempts(before: number): number;
  close(): void;
}

interface SubscriptionRow {
  name: string;
  spec: string;
  status: SubscriptionStatus;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

interface AttemptRow {
  id: number;
  subscription: string;
  event_id: string;
  event_type: string;
  partition_key: string | null;
  kind: 'live' | 'replay';
  outcome: AttemptOutcome;
  status: number | null;
  latency_ms: number;
  excerpt: string;
  error: string | null;
  at: number;
}

/** Attempts queued before a write is forced, and the longest they wait, in milliseconds. */
const FLUSH_AT = 1_000;
const FLUSH_AFTER_MS = 20;

const subscriptionOf = (row: SubscriptionRow): Subscription => ({
  ...(JSON.parse(row.spec) as SubscriptionSpec),
  name: row.name,
  status: row.status,
  disabledReason: row.disabled_reason ?? undefined,
  group: subscriptionGroup(row.name),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const attemptOf = (row: AttemptRow): DeliveryAttempt => ({
  id: row.id,
  subscription: row.subscription,
  eventId: row.event_id,
  eventType: row.event_type,
  partitionKey: row.partition_key ?? undefined,
  kind: row.kind,
  outcome: row.outcome,
  status: row.status ?? undefined,
  latencyMs: row.latency_ms,
  excerpt: row.excerpt,
  error: row.error ?? undefined,
  at: row.at,
});

/** Opens the delivery tables in a SQLite file (the node's `keel.db`), creating them if needed. */
export function openDeliveryStore(options: { path: string; synchronous: 'normal' | 'full' }): DeliveryStore {
  const db: Database = openSqlite({
    path: options.path,
    synchronous: options.synchronous,
    prepare: (opened) => runSqliteMigrations(opened, deliveryMigrations),
  });
  const insertAttempt = db.prepare(
    `INSERT INTO delivery_attempts (subscription, event_id, event_type, partition_key, kind, outcome, status,
       latency_ms, excerpt, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let queued: Omit<DeliveryAttempt, 'id'>[] = [];
  let timer: NodeJS.Timeout | undefined;
  const writeQueued = db.transaction((attempts: Omit<DeliveryAttempt, 'id'>[]) => {
    for (const a of attempts) {
      insertAttempt.run(
        a.subscription,
        a.eventId,
        a.eventType,
        a.partitionKey ?? null,
        a.kind,
        a.outcome,
        a.status ?? null,
        a.latencyMs,
        a.excerpt,
        a.error ?? null,
        a.at,
      );
    }
  });
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    writeQueued(batch);
  };

  return {
    list: () =>
      db
        .prepare<[], SubscriptionRow>('SELECT * FROM delivery_subscriptions ORDER BY name')
        .all()
        .map(subscriptionOf),
    get(name) {
      const row = db
        .prepare<[string], SubscriptionRow>('SELECT * FROM delivery_subscriptions WHERE name = ?')
        .get(name);
      return row === undefined ? undefined : subscriptionOf(row);
    },
    insert(name, spec, now) {
      const result = db
        .prepare(
          `INSERT INTO delivery_subscriptions (name, spec, status, created_at, updated_at)
           VALUES (?, ?, 'active', ?, ?) ON CONFLICT (name) DO NOTHING`,
        )
        .run(name, JSON.stringify(spec), now, now);
      return result.changes === 1;
    },
    replace(name, spec, now) {
      const result = db
        .prepare('UPDATE delivery_subscriptions SET spec = ?, updated_at = ? WHERE name = ?')
        .run(JSON.stringify(spec), now, name);
      return result.changes === 1;
    },
    setStatus(name, status, reason, now) {
      const result = db
        .prepare(
          'UPDATE delivery_subscriptions SET status = ?, disabled_reason = ?, updated_at = ? WHERE name = ?',
        )
        .run(status, reason ?? null, now, name);
      return result.changes === 1;
    },
    remove(name) {
      flush();
      return db.transaction(() => {
        db.prepare('DELETE FROM delivery_attempts WHERE subscription = ?').run(name);
        return db.prepare('DELETE FROM delivery_subscriptions WHERE name = ?').run(name).changes === 1;
      })();
    },
    record(attempt) {
      queued.push(attempt);
      if (queued.length >= FLUSH_AT) flush();
      else timer ??= setTimeout(flush, FLUSH_AFTER_MS);
    },
    flush,
    attempts(subscription, query) {
      flush();
      const rows = db
        .prepare<unknown[], AttemptRow>(
          `SELECT * FROM delivery_attempts WHERE subscription = ? AND id < ?
             AND (? IS NULL OR event_id = ?) AND (? IS NULL OR outcome = ?)
           ORDER BY id DESC LIMIT ?`,
        )
        .all(
          subscription,
          query.before ?? Number.MAX_SAFE_INTEGER,
          query.eventId ?? null,
          query.eventId ?? null,
          query.outcome ?? null,
          query.outcome ?? null,
          query.limit,
        );
      return rows.map(attemptOf);
    },
    pruneAttempts(before) {
      flush();
      return db.prepare('DELETE FROM delivery_attempts WHERE at < ?').run(before).changes;
    },
    close() {
      flush();
      db.close();
    },
  };
}
