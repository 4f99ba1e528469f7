/** The instance's inbox version and its items, oldest first, in one snapshot (NULL item columns when empty). */
export function readInboxStatement(schema: string): string {
  return `
    SELECT i.inbox_version::text, b.id::text, b.kind, b.name, b.payload
    FROM ${schema}.workflow_instances i LEFT JOIN ${schema}.workflow_inbox b ON b.instance_id = i.instance_id
    WHERE i.instance_id = $1
    ORDER BY b.id`;
}

/** Deletes inbox items. */
export function discardInboxStatement(schema: string): string {
  return `DELETE FROM ${schema}.workflow_inbox WHERE id = ANY($1::bigint[])`;
}
