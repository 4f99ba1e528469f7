import BetterSqlite3 from 'better-sqlite3';
import postgres from 'postgres';

/** Where the test's side effects are recorded: a SQLite file of their own, or tables in a PostgreSQL schema. */
export type EffectsLocation =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema: string };

/** One execution of an action: which process ran it, and when (ms since the epoch, sub-ms precision). */
export interface ExecutionRow {
  instance_id: string;
  step: string;
  process: string;
  started_at: number;
  ended_at: number | null;
}

/**
 * The outside world the test workflows act on. `apply` is an idempotent effect keyed by the step's
 * idempotency key (a unique key, as a real service would use); `attempt` logs every execution, so a test
 * can count re-runs; `begin`/`end` record each execution's interval for overlap checks.
 */
export interface Effects {
  /** Logs one execution of an action (any number per key). */
  attempt(key: string): Promise<void>;
  /** Applies the effect once per key: a second call with the key changes nothing. */
  apply(key: string, instanceId: string, step: string, kind: 'do' | 'undo'): Promise<void>;
  /** Records that this process starts running a step; returns the row id to end. */
  begin(instanceId: string, step: string, process: string): Promise<number>;
  end(id: number): Promise<void>;
  /** Every effect applied. */
  applied(): Promise<{ key: string; instance_id: string; step: string; kind: string }[]>;
  /** How many times each key was attempted. */
  attempts(): Promise<Map<string, number>>;
  executions(): Promise<ExecutionRow[]>;
  /** How many executions began. */
  executionCount(): Promise<number>;
  close(): Promise<void>;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

/** Opens (creating when missing) the effects tables at a location. */
export async function openEffects(location: EffectsLocation): Promise<Effects> {
  if (location.kind === 'sqlite') {
    const db = new BetterSqlite3(location.path);
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, instance_id TEXT, step TEXT, kind TEXT);
      CREATE TABLE IF NOT EXISTS attempts (key TEXT);
      CREATE TABLE IF NOT EXISTS executions (id INTEGER PRIMARY KEY, instance_id TEXT, step TEXT, process TEXT,
        started_at REAL, ended_at REAL);
    `);
    const apply = db.prepare('INSERT INTO effects VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING');
    const attempt = db.prepare('INSERT INTO attempts VALUES (?)');
    const begin = db.prepare(
      'INSERT INTO executions (instance_id, step, process, started_at) VALUES (?, ?, ?, ?) RETURNING id',
    );
    const end = db.prepare('UPDATE executions SET ended_at = ? WHERE id = ?');
    return {
      attempt: async (key) => void attempt.run(key),
      apply: async (key, instanceId, step, kind) => void apply.run(key, instanceId, step, kind),
      begin: async (instanceId, step, process) =>
        (begin.get(instanceId, step, process, preciseNow()) as { id: number }).id,
      end: async (id) => void end.run(preciseNow(), id),
      applied: async () => db.prepare('SELECT * FROM effects').all() as never,
      attempts: async () =>
        new Map(
          (
            db.prepare('SELECT key, count(*) AS n FROM attempts GROUP BY key').all() as {
              key: string;
              n: number;
            }[]
          ).map((r) => [r.key, r.n]),
        ),
      executions: async () => db.prepare('SELECT * FROM executions').all() as ExecutionRow[],
      executionCount: async () =>
        (db.prepare('SELECT count(*) AS n FROM executions').get() as { n: number }).n,
      close: async () => {
        db.close();
      },
    };
  }
  const sql = postgres(location.url, { max: 4, onnotice: () => {} });
  const s = `"${location.schema}"`;
  await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await sql.unsafe(`
    CREATE TABLE IF NOT EXISTS ${s}.effects (key text PRIMARY KEY, instance_id text, step text, kind text);
    CREATE TABLE IF NOT EXISTS ${s}.attempts (key text);
    CREATE TABLE IF NOT EXISTS ${s}.executions (id bigserial PRIMARY KEY, instance_id text, step text,
      process text, started_at double precision, ended_at double precision);
  `);
  return {
    attempt: async (key) => void (await sql.unsafe(`INSERT INTO ${s}.attempts VALUES ($1)`, [key])),
    apply: async (key, instanceId, step, kind) =>
      void (await sql.unsafe(
        `INSERT INTO ${s}.effects VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
        [key, instanceId, step, kind],
      )),
    begin: async (instanceId, step, process) => {
      const [row] = await sql.unsafe(
        `INSERT INTO ${s}.executions (instance_id, step, process, started_at) VALUES ($1, $2, $3, $4) RETURNING id`,
        [instanceId, step, process, preciseNow()],
      );
      return Number(row!.id);
    },
    end: async (id) =>
      void (await sql.unsafe(`UPDATE ${s}.executions SET ended_at = $1 WHERE id = $2`, [preciseNow(), id])),
    applied: async () => [...(await sql.unsafe(`SELECT * FROM ${s}.effects`))] as never,
    attempts: async () =>
      new Map(
        (await sql.unsafe(`SELECT key, count(*)::int AS n FROM ${s}.attempts GROUP BY key`)).map((r) => [
          String(r.key),
          Number(r.n),
        ]),
      ),
    executions: async () =>
      (await sql.unsafe(`SELECT * FROM ${s}.executions`)).map((r) => ({
        instance_id: String(r.instance_id),
        step: String(r.step),
        process: String(r.process),
        started_at: Number(r.started_at),
        ended_at: r.ended_at === null ? null : Number(r.ended_at),
      })),
    executionCount: async () =>
      Number((await sql.unsafe(`SELECT count(*)::int AS n FROM ${s}.executions`))[0]!.n),
    close: async () => sql.end({ timeout: 5 }),
  };
}
