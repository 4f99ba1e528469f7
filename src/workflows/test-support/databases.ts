import { createPostgresEventStore } from '../../store/postgres/index.ts';
import { createSqliteEventStore } from '../../store/sqlite/index.ts';
import type { WorkflowDatabase } from '../contract/workflow-contract.ts';
import { createPostgresWorkflowBackend } from '../postgres/postgres-backend.ts';
import { createSqliteWorkflowBackend } from '../sqlite/sqlite-backend.ts';

/** Where a test's workflow database lives: a SQLite file, or a schema on the PostgreSQL server. */
export type DatabaseLocation =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema: string };

/** Opens the event store and the workflow backend at a location (migrating both). */
export async function openDatabase(
  location: DatabaseLocation,
): Promise<WorkflowDatabase & { close(): Promise<void> }> {
  const db: WorkflowDatabase =
    location.kind === 'sqlite'
      ? {
          store: createSqliteEventStore({ path: location.path, synchronous: 'normal' }),
          backend: createSqliteWorkflowBackend({ path: location.path, synchronous: 'normal' }),
        }
      : {
          store: createPostgresEventStore({ url: location.url, schema: location.schema, maxConnections: 6 }),
          backend: createPostgresWorkflowBackend({
            url: location.url,
            schema: location.schema,
            maxConnections: 3,
          }),
        };
  await db.store.readAll({ maxCount: 0 });
  await db.backend.migrate();
  return {
    ...db,
    async close() {
      await db.backend.close();
      await db.store.close();
    },
  };
}
