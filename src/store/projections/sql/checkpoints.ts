import type { StoreTransaction } from '../../event-store.ts';

/** A projection's row in `store_projections`. */
export interface ProjectionState {
  /** `*` for the whole store, else the tenant whose events it reads. */
  scope: string;
  /** Generation of the live table (`<name>__g<generation>`), which the view reads. */
  generation: number;
  /** Where the live table is up to; null before the first event. */
  checkpoint: string | null;
  /** Generation of the shadow table a rebuild is filling; null when none runs. */
  rebuildGeneration: number | null;
  rebuildCheckpoint: string | null;
}

type Dialect = StoreTransaction['dialect'];
const text = (dialect: Dialect, postgres: string, sqlite: string): string =>
  dialect === 'postgres' ? postgres : sqlite;
const now = (transaction: StoreTransaction): unknown[] =>
  transaction.dialect === 'postgres' ? [] : [Date.now()];

/** Serializes projection set-up and swaps across processes (PostgreSQL; SQLite's write lock already does). */
export async function lockProjection(transaction: StoreTransaction, name: string): Promise<void> {
  if (transaction.dialect === 'postgres') {
    await transaction.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`keel.store.projection:${name}`]);
  }
}

/** The projection's row, creating it (generation 1, no checkpoint) when missing. */
export async function ensureProjectionState(
  transaction: StoreTransaction,
  name: string,
  scope: string,
): Promise<ProjectionState> {
  const { dialect } = transaction;
  const table = transaction.table('store_projections');
  const existing = await readProjectionState(transaction, name);
  if (existing !== undefined) return existing;
  await transaction.query(
    text(
      dialect,
      `INSERT INTO ${table} (name, scope, generation) VALUES ($1, $2, 1)`,
      `INSERT INTO ${table} (name, scope, generation, updated_at) VALUES (?, ?, 1, ?)`,
    ),
    [name, scope, ...now(transaction)],
  );
  return { scope, generation: 1, checkpoint: null, rebuildGeneration: null, rebuildCheckpoint: null };
}

/** The projection's row, whatever its scope; undefined when it was never started. */
export async function readProjectionState(
  transaction: StoreTransaction,
  name: string,
): Promise<ProjectionState | undefined> {
  const rows = await transaction.query<{
    scope: string;
    generation: number | bigint;
    checkpoint: string | null;
    rebuild_generation: number | bigint | null;
    rebuild_checkpoint: string | null;
  }>(
    text(
      transaction.dialect,
      `SELECT scope, generation, checkpoint, rebuild_generation, rebuild_checkpoint FROM ${transaction.table('store_projections')} WHERE name = $1`,
      `SELECT scope, generation, checkpoint, rebuild_generation, rebuild_checkpoint FROM ${transaction.table('store_projections')} WHERE name = ?`,
    ),
    [name],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    scope: row.scope,
    generation: Number(row.generation),
    checkpoint: row.checkpoint,
    rebuildGeneration: row.rebuild_generation === null ? null : Number(row.rebuild_generation),
    rebuildCheckpoint: row.rebuild_checkpoint,
  };
}

// The live table's checkpoint and the rebuild's shadow table's move the same way, each in its own columns.
const liveColumns = { checkpoint: 'checkpoint', generation: 'generation' } as const;
const rebuildColumns = { checkpoint: 'rebuild_checkpoint', generation: 'rebuild_generation' } as const;

async function moveCheckpoint(
  transaction: StoreTransaction,
  columns: typeof liveColumns | typeof rebuildColumns,
  name: string,
  generation: number,
  from: string | null,
  to: string | null,
): Promise<boolean> {
  const { checkpoint, generation: generationColumn } = columns;
  const rows = await transaction.query(
    text(
      transaction.dialect,
      `UPDATE ${transaction.table('store_projections')} SET ${checkpoint} = $4, updated_at = now()
        WHERE name = $1 AND ${generationColumn} = $2 AND ${checkpoint} IS NOT DISTINCT FROM $3 RETURNING 1`,
      `UPDATE ${transaction.table('store_projections')} SET ${checkpoint} = ?4, updated_at = ?5
        WHERE name = ?1 AND ${generationColumn} = ?2 AND ${checkpoint} IS ?3 RETURNING 1`,
    ),
    [name, generation, from, to, ...now(transaction)],
  );
  return rows.length === 1;
}

/**
 * Moves the live checkpoint from `from` to `to`, only if the row still says `from` at `generation`:
 * false when another runner moved it or a rebuild swapped tables (the caller's transaction then rolls back).
 */
export function advanceCheckpoint(
  transaction: StoreTransaction,
  name: string,
  generation: number,
  from: string | null,
  to: string | null,
): Promise<boolean> {
  return moveCheckpoint(transaction, liveColumns, name, generation, from, to);
}

/** The same for a rebuild's shadow table. */
export function advanceRebuildCheckpoint(
  transaction: StoreTransaction,
  name: string,
  rebuildGeneration: number,
  from: string | null,
  to: string | null,
): Promise<boolean> {
  return moveCheckpoint(transaction, rebuildColumns, name, rebuildGeneration, from, to);
}

/** Records that a rebuild fills `rebuildGeneration` from the start. */
export async function startRebuild(
  transaction: StoreTransaction,
  name: string,
  rebuildGeneration: number,
): Promise<void> {
  await transaction.query(
    text(
      transaction.dialect,
      `UPDATE ${transaction.table('store_projections')} SET rebuild_generation = $2, rebuild_checkpoint = NULL, updated_at = now() WHERE name = $1`,
      `UPDATE ${transaction.table('store_projections')} SET rebuild_generation = ?2, rebuild_checkpoint = NULL, updated_at = ?3 WHERE name = ?1`,
    ),
    [name, rebuildGeneration, ...now(transaction)],
  );
}

/** Makes the rebuild's generation and checkpoint the live ones, if the rebuild is still at `checkpoint`. */
export async function promoteRebuild(
  transaction: StoreTransaction,
  name: string,
  rebuildGeneration: number,
  checkpoint: string | null,
): Promise<boolean> {
  const rows = await transaction.query(
    text(
      transaction.dialect,
      `UPDATE ${transaction.table('store_projections')}
          SET generation = rebuild_generation, checkpoint = rebuild_checkpoint,
              rebuild_generation = NULL, rebuild_checkpoint = NULL, updated_at = now()
        WHERE name = $1 AND rebuild_generation = $2 AND rebuild_checkpoint IS NOT DISTINCT FROM $3 RETURNING 1`,
      `UPDATE ${transaction.table('store_projections')}
          SET generation = rebuild_generation, checkpoint = rebuild_checkpoint,
              rebuild_generation = NULL, rebuild_checkpoint = NULL, updated_at = ?4
        WHERE name = ?1 AND rebuild_generation = ?2 AND rebuild_checkpoint IS ?3 RETURNING 1`,
    ),
    [name, rebuildGeneration, checkpoint, ...now(transaction)],
  );
  return rows.length === 1;
}

/** Forgets the rebuild filling `rebuildGeneration` (it was aborted); false when another rebuild holds the row now. */
export async function abandonRebuild(
  transaction: StoreTransaction,
  name: string,
  rebuildGeneration: number,
): Promise<boolean> {
  const rows = await transaction.query(
    text(
      transaction.dialect,
      `UPDATE ${transaction.table('store_projections')} SET rebuild_generation = NULL, rebuild_checkpoint = NULL, updated_at = now()
        WHERE name = $1 AND rebuild_generation = $2 RETURNING 1`,
      `UPDATE ${transaction.table('store_projections')} SET rebuild_generation = NULL, rebuild_checkpoint = NULL, updated_at = ?3
        WHERE name = ?1 AND rebuild_generation = ?2 RETURNING 1`,
    ),
    [name, rebuildGeneration, ...now(transaction)],
  );
  return rows.length === 1;
}

/** Points the view readers query at a table (drop and create: a new table may have other columns). */
export async function pointView(transaction: StoreTransaction, view: string, table: string): Promise<void> {
  await transaction.query(`DROP VIEW IF EXISTS ${view}`);
  await transaction.query(`CREATE VIEW ${view} AS SELECT * FROM ${table}`);
}

/** Drops a table if it exists. */
export async function dropTable(transaction: StoreTransaction, table: string): Promise<void> {
  await transaction.query(`DROP TABLE IF EXISTS ${table}`);
}

/** A projection's row with its name and when it last moved, as `listProjectionStates` reads it. */
export interface NamedProjectionState extends ProjectionState {
  name: string;
  /** When its row last changed (a batch applied, a rebuild step), ms since the epoch. */
  updatedAt: number;
}

/** Every projection's row, by name: what operators see of the projections run against this store. */
export async function listProjectionStates(transaction: StoreTransaction): Promise<NamedProjectionState[]> {
  const table = transaction.table('store_projections');
  const updated =
    transaction.dialect === 'postgres' ? '(extract(epoch FROM updated_at) * 1000)::float8' : 'updated_at';
  const rows = await transaction.query<{
    name: string;
    scope: string;
    generation: number | bigint;
    checkpoint: string | null;
    rebuild_generation: number | bigint | null;
    rebuild_checkpoint: string | null;
    updated_at: number | bigint;
  }>(
    `SELECT name, scope, generation, checkpoint, rebuild_generation, rebuild_checkpoint, ${updated} AS updated_at
       FROM ${table} ORDER BY name, scope`,
  );
  return rows.map((row) => ({
    name: row.name,
    scope: row.scope,
    generation: Number(row.generation),
    checkpoint: row.checkpoint,
    rebuildGeneration: row.rebuild_generation === null ? null : Number(row.rebuild_generation),
    rebuildCheckpoint: row.rebuild_checkpoint,
    updatedAt: Number(row.updated_at),
  }));
}
