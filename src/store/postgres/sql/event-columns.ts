/**
 * The columns every event read selects, cast so the values arrive the same whatever type parsers the
 * caller's postgres.js instance was given: positions and transaction ids as text (they are 64-bit),
 * the recorded time as epoch milliseconds, the event as its stored JSON text.
 */
export const EVENT_COLUMNS = `e.position::text, e.transaction_id::text, e.stream_id, e.version::text, e.tenant_id,
  (extract(epoch FROM e.recorded_at) * 1000)::float8, e.event::text`;

/** A row of EVENT_COLUMNS, as values. */
export type EventRow = [
  position: string,
  transactionId: string,
  streamId: string,
  version: string,
  tenantId: string,
  recordedAtMs: number,
  json: string,
];
