// The PostgreSQL workflow backend, kept out of the main entry point so embedded users never load the driver.
export type { PostgresWorkflowBackendOptions } from './postgres-backend.ts';
export { createPostgresWorkflowBackend } from './postgres-backend.ts';
