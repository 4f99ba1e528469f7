import { KeelError } from '../../errors/keel-error.ts';

/** A SQLite file whose schema is newer than this version of Keel understands. */
export class UnsupportedSchemaVersionError extends KeelError {
  readonly code = 'KEEL_EMBEDDED_SCHEMA_VERSION';
  /** Path of the database file. */
  readonly path: string;
  /** `PRAGMA user_version` found in the file. */
  readonly found: number;
  /** Newest version this code knows. */
  readonly supported: number;

  constructor(path: string, found: number, supported: number) {
    super(
      `${path}: schema version ${found} is newer than the ${supported} this Keel supports; upgrade Keel to open it`,
    );
    this.path = path;
    this.found = found;
    this.supported = supported;
  }
}

/** A stored record whose value cannot be read back (its codec is unknown or its bytes do not decompress). */
export class CorruptRecordError extends KeelError {
  readonly code = 'KEEL_EMBEDDED_CORRUPT_RECORD';
  /** Topic of the record. */
  readonly topic: string;
  /** Partition of the record. */
  readonly partition: number;
  /** Offset of the record. */
  readonly offset: bigint;

  constructor(
    at: { topic: string; partition: number; offset: bigint },
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`${at.topic}[${at.partition}]@${at.offset}: ${reason}`, options);
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
  }
}
