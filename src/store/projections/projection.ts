import type { StoredEvent, StoreTransaction } from '../event-store.ts';

/** Where a projection writes: one table, named for the SQL of the store's dialect. */
export interface ProjectionTable {
  /** Quoted, qualified name to use in SQL (`"keel"."patients__g2"` on PostgreSQL, `"patients__g2"` on SQLite). */
  name: string;
  /** Unquoted name, to derive index names from (they must be unique per schema / file). */
  bareName: string;
  dialect: StoreTransaction['dialect'];
}

/** What `apply` works with: the transaction that also records the projection's checkpoint, and its table. */
export interface ProjectionContext {
  transaction: StoreTransaction;
  table: ProjectionTable;
}

/**
 * A read model kept from the events, as plain data: the events it reads, how to create its table, and
 * how to apply a batch of events to it. The same definition serves inline (in the append's transaction)
 * and async (a catch-up subscription) use; `apply` must be deterministic so a rebuild gives the same table.
 */
export interface ProjectionDefinition {
  /**
   * Lower-case letters, digits and `_`, at most 48: async projections are read through a view of this
   * name; inline projections write a table of this name.
   */
  name: string;
  /** Event types applied; undefined: all. */
  types?: readonly string[];
  /** Statements creating the table (and its indexes) under `table.name`, run in order. */
  createTable(table: ProjectionTable): readonly string[];
  /** Applies events, in global order, to `context.table` within `context.transaction`. */
  apply(events: readonly StoredEvent[], context: ProjectionContext): void | Promise<void>;
}

const PROJECTION_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** Checks a projection definition and returns it (plain data, like `defineEvent`). */
export function defineProjection(definition: ProjectionDefinition): ProjectionDefinition {
  if (!PROJECTION_NAME.test(definition.name)) {
    throw new TypeError(
      `defineProjection: name "${definition.name}" must be lower-case letters, digits and '_' (at most 48)`,
    );
  }
  if (definition.types !== undefined && !Array.isArray(definition.types)) {
    throw new TypeError(`defineProjection(${definition.name}): types must be an array of event types`);
  }
  if (typeof definition.createTable !== 'function' || typeof definition.apply !== 'function') {
    throw new TypeError(`defineProjection(${definition.name}): createTable and apply must be functions`);
  }
  return definition;
}

/** The table a projection writes under `bareName` in a transaction's store. */
export function projectionTable(transaction: StoreTransaction, bareName: string): ProjectionTable {
  return { name: transaction.table(bareName), bareName, dialect: transaction.dialect };
}

/** Whether a table (or view) exists in the transaction's store. */
export async function tableExists(transaction: StoreTransaction, table: ProjectionTable): Promise<boolean> {
  const rows =
    transaction.dialect === 'postgres'
      ? await transaction.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [
          table.name,
        ])
      : await transaction.query<{ found: number }>(
          "SELECT 1 AS found FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?",
          [table.bareName],
        );
  return rows.length > 0 && rows[0]!.found !== null;
}
