/** Columns of the `events` table queries read, in the order the loader appends them. */
export const EVENT_COLUMNS = [
  ['position', 'BIGINT NOT NULL', 'Global position in the event store.'],
  ['stream_id', 'VARCHAR NOT NULL', 'Stream the event was appended to.'],
  ['version', 'INTEGER NOT NULL', 'Version of the event in its stream (1, 2, ...).'],
  ['tenant', 'VARCHAR NOT NULL', 'Tenant that owns the event.'],
  ['recorded_at', 'TIMESTAMPTZ NOT NULL', 'When the store wrote it (millisecond precision).'],
  ['id', 'VARCHAR NOT NULL', 'CloudEvents `id`.'],
  ['type', 'VARCHAR NOT NULL', 'CloudEvents `type`.'],
  ['source', 'VARCHAR NOT NULL', 'CloudEvents `source`.'],
  ['subject', 'VARCHAR', 'CloudEvents `subject`.'],
  ['time', 'TIMESTAMPTZ', 'CloudEvents `time` (millisecond precision).'],
  ['correlation_id', 'VARCHAR', 'The `correlationid` extension.'],
  ['causation_id', 'VARCHAR', 'The `causationid` extension.'],
  ['data', 'JSON', 'The event data as JSON (binary data as `{"data_base64": ...}`).'],
] as const;

/** Name of a column of the `events` table. */
export type EventColumn = (typeof EVENT_COLUMNS)[number][0];

/** Creates the `events` table and the loader's checkpoint row when they are missing. */
export const CREATE_HISTORY_TABLES = `
CREATE TABLE IF NOT EXISTS events (${EVENT_COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(', ')});
CREATE TABLE IF NOT EXISTS keel_history_state (id INTEGER PRIMARY KEY, checkpoint VARCHAR, loaded BIGINT NOT NULL);
INSERT INTO keel_history_state VALUES (1, NULL, 0) ON CONFLICT DO NOTHING;
`;
