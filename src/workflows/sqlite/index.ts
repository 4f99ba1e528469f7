export type { SqliteWorkflowBackendOptions } from './sqlite-backend.ts';
export { createSqliteWorkflowBackend } from './sqlite-backend.ts';
