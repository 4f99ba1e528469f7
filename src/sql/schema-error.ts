import { KeelError } from '../errors/keel-error.ts';

/** Why a database's recorded migrations cannot be used by this code. */
export type MigrationProblem = 'newer_version' | 'modified_migration';

/** Which of Keel's schemas a migration set builds, and the code its errors carry. */
export interface SchemaComponent {
  /** Human name used in messages, e.g. `event store`. */
  name: string;
  /** Stable error code, e.g. `KEEL_STORE_SCHEMA`. */
  code: string;
}

/**
 * A database whose recorded migrations this code cannot vouch for: a newer Keel migrated it, or a
 * shipped migration's SQL changed since it ran. Nothing was migrated on top of it.
 */
export class SchemaError extends KeelError {
  readonly code: string;
  /** Which schema, e.g. `event store` or `workflow`. */
  readonly component: string;
  /** File path or PostgreSQL schema. */
  readonly location: string;
  /** Migration version found there. */
  readonly found: number;
  /** Newest migration version this code knows. */
  readonly supported: number;
  readonly problem: MigrationProblem;

  constructor(
    component: SchemaComponent,
    location: string,
    found: number,
    supported: number,
    problem: MigrationProblem,
  ) {
    super(
      problem === 'newer_version'
        ? `${location}: ${component.name} schema version ${found} is newer than the ${supported} this Keel supports; upgrade Keel`
        : `${location}: ${component.name} migration ${found} differs from the one this Keel ships (checksum mismatch); migrations must never be edited`,
    );
    this.code = component.code;
    this.component = component.name;
    this.location = location;
    this.found = found;
    this.supported = supported;
    this.problem = problem;
  }
}
