import { EVENT_COLUMNS } from './event-columns.ts';

/**
 * One stream's page and its current version in one statement (one snapshot, so they agree). Parameters:
 * $1 stream id, $2 first version (NULL backwards = the last), $3 limit (NULL = all), $4 tenant (NULL = any).
 * No row at all when the stream has no events or belongs to another tenant; one row with NULL event
 * columns when the page is empty. A stream's events are read without the commit-order guard of read-all:
 * appends to one stream hold its row lock until they commit, so versions become visible in order.
 */
export function readStreamStatement(schema: string, direction: 'forwards' | 'backwards'): string {
  const page =
    direction === 'forwards'
      ? 'e.version >= coalesce($2::bigint, 1) ORDER BY e.version LIMIT $3::bigint'
      : 'e.version <= coalesce($2::bigint, s.version) ORDER BY e.version DESC LIMIT $3::bigint';
  return `SELECT s.version::text, ${EVENT_COLUMNS}
    FROM ${schema}.store_streams s
    LEFT JOIN LATERAL (
      SELECT * FROM ${schema}.store_events e WHERE e.stream_id = s.stream_id AND ${page}
    ) e ON true
    WHERE s.stream_id = $1 AND s.version > 0 AND ($4::text IS NULL OR s.tenant_id = $4::text)`;
}
