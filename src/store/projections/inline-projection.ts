import type { AppendHook, EventStore } from '../event-store.ts';
import { type ProjectionDefinition, projectionTable, tableExists } from './projection.ts';
import { lockProjection } from './sql/checkpoints.ts';

/** An inline projection: its append hook and the setup that creates its table. */
export interface InlineProjection {
  readonly definition: ProjectionDefinition;
  /**
   * The append hook: applies the appended events of the projection's types to its table in the append's
   * transaction, so the table never lags the events; a failing projection rolls the append back.
   * Give it to the store's `onAppend` (every append) or an append's `withinTransaction`.
   */
  readonly hook: AppendHook;
  /** Creates the projection's table (named `definition.name`) when missing. */
  setup(store: EventStore): Promise<void>;
}

/** Makes a projection inline: written in the same transaction as the events it reads. */
export function inlineProjection(definition: ProjectionDefinition): InlineProjection {
  const types = definition.types === undefined ? undefined : new Set(definition.types);
  return {
    definition,
    hook: async ({ events, transaction }) => {
      const applied = types === undefined ? events : events.filter((e) => types.has(e.event.type));
      if (applied.length === 0) return;
      await definition.apply(applied, { transaction, table: projectionTable(transaction, definition.name) });
    },
    async setup(store) {
      await store.transaction(async (transaction) => {
        await lockProjection(transaction, definition.name);
        const table = projectionTable(transaction, definition.name);
        if (await tableExists(transaction, table)) return;
        for (const statement of definition.createTable(table)) await transaction.query(statement);
      });
    },
  };
}
