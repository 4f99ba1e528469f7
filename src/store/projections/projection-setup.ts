import { ProjectionScopeError } from '../errors.ts';
import type { StoreTransaction } from '../event-store.ts';
import { type ProjectionDefinition, projectionTable, tableExists } from './projection.ts';
import { ensureProjectionState, lockProjection, pointView } from './sql/checkpoints.ts';

/** The physical table of a projection's generation. */
export const generationTable = (name: string, generation: number): string => `${name}__g${generation}`;

/**
 * Under the projection's lock: creates its state row, its live table and the view on it when missing,
 * refusing a projection recorded for another scope. Returns the live generation and its checkpoint.
 */
export async function setUpProjection(
  transaction: StoreTransaction,
  projection: ProjectionDefinition,
  scope: string,
): Promise<{ generation: number; checkpoint: string | null }> {
  const { name } = projection;
  await lockProjection(transaction, name);
  const state = await ensureProjectionState(transaction, name, scope);
  if (state.scope !== scope) throw new ProjectionScopeError(name, state.scope, scope);
  const table = projectionTable(transaction, generationTable(name, state.generation));
  if (!(await tableExists(transaction, table))) {
    for (const statement of projection.createTable(table)) await transaction.query(statement);
  }
  const view = projectionTable(transaction, name);
  if (!(await tableExists(transaction, view))) await pointView(transaction, view.name, table.name);
  return { generation: state.generation, checkpoint: state.checkpoint };
}
