import { KeelError } from '../../errors/keel-error.ts';

/** Why a record's bytes could not be decoded: each has its own code, the reason a dead letter carries. */
export type UndecodableReason = 'wrong_magic_byte' | 'unknown_schema_id' | 'undecodable_bytes';

/** A record in Confluent's wire format that Keel could not decode; its reason says which check failed. */
export class UndecodableRecordError extends KeelError {
  readonly code: string;
  readonly reason: UndecodableReason;
  /** The schema id the record named, when it had one. */
  readonly schemaId: number | undefined;

  constructor(reason: UndecodableReason, message: string, schemaId?: number, options?: ErrorOptions) {
    super(message, options);
    this.code = `KEEL_REGISTRY_${reason.toUpperCase()}`;
    this.reason = reason;
    this.schemaId = schemaId;
  }
}

/** A value that does not fit the schema it is encoded with; nothing was encoded. */
export class AvroEncodeError extends KeelError {
  readonly code = 'KEEL_REGISTRY_AVRO_ENCODE';
  /** The paths (`patient.address.city`) of the fields that do not fit. */
  readonly paths: readonly string[];

  constructor(schemaId: number, paths: readonly string[]) {
    super(
      `value does not fit Avro schema ${schemaId}: ${paths.map((p) => (p === '' ? '(root)' : p)).join(', ')}`,
    );
    this.paths = paths;
  }
}
