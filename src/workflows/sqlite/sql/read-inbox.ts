/** The instance's inbox version, and its items oldest first (one row with NULL item columns when empty). */
export const READ_INBOX = `
  SELECT i.inbox_version, b.id, b.kind, b.name, b.payload
  FROM workflow_instances i LEFT JOIN workflow_inbox b ON b.instance_id = i.instance_id
  WHERE i.instance_id = ?
  ORDER BY b.id`;

/** A row READ_INBOX returns. */
export interface SqliteInboxRow {
  inbox_version: number;
  id: number | null;
  kind: string | null;
  name: string | null;
  /** JSON text. */
  payload: string | null;
}

/** Deletes inbox items (ids as a JSON array). */
export const DISCARD_INBOX = 'DELETE FROM workflow_inbox WHERE id IN (SELECT value FROM json_each(?))';
