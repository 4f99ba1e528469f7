/** An event row as the SQLite statements return it (integers as bigint: the statements use safeIntegers). */
export interface SqliteEventRow {
  position: bigint;
  stream_id: string;
  version: bigint;
  tenant_id: string;
  /** Milliseconds since the epoch. */
  recorded_at: bigint;
  /** Stored structured JSON of the CloudEvent. */
  event: string;
}

/** The columns every event read selects, in SqliteEventRow's shape. */
export const EVENT_COLUMNS = 'position, stream_id, version, tenant_id, recorded_at, event';
