import type { StreamListQuery } from '../../store-queries.ts';

/** A row of `listStreamsStatement`. */
export type StreamListRow = [
  streamId: string,
  tenantId: string,
  version: string,
  createdAtMs: number,
  updatedAtMs: number,
  deletedAtMs: number | null,
];

/** Streams with at least one event, in id order (the database collation: the primary key serves it), filtered by tenant, prefix, event types and tombstone. */
export function listStreamsStatement(
  schema: string,
  query: StreamListQuery,
): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = ['s.version > 0'];
  const add = (sql: (p: string) => string, value: unknown): void => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (!query.includeDeleted) where.push('s.deleted_at IS NULL');
  if (query.after !== undefined) add((p) => `s.stream_id > ${p}::text`, query.after);
  if (query.tenantId !== undefined) add((p) => `s.tenant_id = ${p}::text`, query.tenantId);
  // starts_with, not LIKE: a prefix is matched exactly, '%' and '_' included.
  if (query.streamPrefix !== undefined)
    add((p) => `starts_with(s.stream_id, ${p}::text)`, query.streamPrefix);
  if (query.types !== undefined) {
    add(
      (p) =>
        `EXISTS (SELECT 1 FROM ${schema}.store_events e WHERE e.stream_id = s.stream_id AND e.type = ANY (${p}::text[]))`,
      query.types,
    );
  }
  params.push(query.maxCount);
  return {
    text: `SELECT s.stream_id, s.tenant_id, s.version::text, (extract(epoch FROM s.created_at) * 1000)::float8,
        (extract(epoch FROM s.updated_at) * 1000)::float8, (extract(epoch FROM s.deleted_at) * 1000)::float8
      FROM ${schema}.store_streams s WHERE ${where.join(' AND ')}
      ORDER BY s.stream_id LIMIT $${params.length}::bigint`,
    params,
  };
}
