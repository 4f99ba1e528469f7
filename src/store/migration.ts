import { createHash } from 'node:crypto';

/** One step of an adapter's store schema. Append only: a shipped migration has run on users' databases. */
export interface StoreMigration {
  /** 1, 2, 3, ... in order. */
  version: number;
  description: string;
  /** Statements; on PostgreSQL `__schema__` stands for the store's (quoted) schema. */
  sql: string;
}

/** SHA-256 (hex) of a migration's SQL, recorded when it is applied so later edits are caught. */
export function migrationChecksum(migration: StoreMigration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}
