import type { ExpectedVersion } from '../../event-store.ts';
import type { PreparedAppend } from '../../prepare-append.ts';

/**
 * The append as one PL/pgSQL function taking a batch of appends to distinct streams (one, or several
 * that concurrent callers queued meanwhile: group commit, one round trip and one WAL flush for all).
 * Each append ("group") is checked on its own and refused on its own, with a Keel SQLSTATE as its
 * `r_refusal` (KE001 wrong expected version: detail = actual version; KE002 another tenant's stream;
 * KE003 id stored in another stream: detail = the id; KE004 deleted stream: detail = `<version>:<ms>`);
 * the others are written. Nothing is written before every check passed, so no subtransaction is needed.
 *
 * Stream rows are locked first, in stream id order (the caller sorts the appends), so batches never
 * deadlock one another; appends to one
 * stream queue on its row lock and so commit in version order. Ids already stored are looked up once for
 * the whole batch. New events are inserted in the order given (positions ascend with versions), the
 * outbox rows of those that have a topic in the same statement, and the result comes from INSERT ...
 * RETURNING, not from a second lookup. Every row's `transaction_id` defaults to `pg_current_xact_id()`:
 * what gap-free reads order by. `__schema__` stands for the store's schema. Created by migration 2;
 * never edit it, add a migration. Migration 3 replaces it with the same function taking its streams'
 * locks first (`append-batch-stream-locks.ts`).
 */
export const APPEND_BATCH_FUNCTION = `
CREATE FUNCTION __schema__.store_append_batch(
  p_stream_ids text[],
  p_tenant_ids text[],
  p_default_tenant text,
  p_expected text[],
  p_expected_versions bigint[],
  p_counts integer[],
  p_groups integer[],
  p_event_ids text[],
  p_types text[],
  p_correlation_ids text[],
  p_events text[],
  p_outbox_topics text[],
  p_check_ids boolean
) RETURNS TABLE (
  r_group integer,
  r_refusal text,
  r_detail text,
  r_tenant_id text,
  r_stream_version bigint,
  r_event_id text,
  r_position bigint,
  r_version bigint,
  r_recorded_at timestamptz,
  r_transaction_id xid8,
  r_duplicate boolean,
  r_event json
) LANGUAGE plpgsql AS $$
DECLARE
  v_group_count integer := cardinality(p_stream_ids);
  g integer;
  v_tenant text;
  v_version bigint;
  v_deleted_at timestamptz;
  s_tenants text[];
  s_versions bigint[];
  s_deleted_at timestamptz[];
  s_result_versions bigint[];
  v_existing_ids text[];
  v_existing_streams text[];
  v_stored integer;
  v_elsewhere text;
  v_ok boolean;
  a_groups integer[] := '{}';
  a_streams text[] := '{}';
  a_tenants text[] := '{}';
  a_bases bigint[] := '{}';
  a_versions bigint[] := '{}';
  v_stored_ids text[] := '{}';
  v_duplicate_groups integer[] := '{}';
BEGIN
  -- The caller sends the appends in stream id order: locking them in that order, batches never deadlock.
  FOR g IN 1 .. v_group_count LOOP
    SELECT s.tenant_id, s.version, s.deleted_at INTO v_tenant, v_version, v_deleted_at
      FROM __schema__.store_streams s WHERE s.stream_id = p_stream_ids[g] FOR UPDATE;
    IF NOT FOUND THEN
      INSERT INTO __schema__.store_streams AS s (stream_id, tenant_id, version)
        VALUES (p_stream_ids[g], coalesce(p_tenant_ids[g], p_default_tenant), 0)
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING s.tenant_id, s.version, s.deleted_at INTO v_tenant, v_version, v_deleted_at;
      IF NOT FOUND THEN
        -- A concurrent first append created the stream and committed: queue behind it like any append.
        SELECT s.tenant_id, s.version, s.deleted_at INTO v_tenant, v_version, v_deleted_at
          FROM __schema__.store_streams s WHERE s.stream_id = p_stream_ids[g] FOR UPDATE;
      END IF;
    END IF;
    s_tenants[g] := v_tenant;
    s_versions[g] := v_version;
    s_deleted_at[g] := v_deleted_at;
  END LOOP;

  -- Looked up under the stream locks: no append to these streams can store one of them meanwhile.
  -- Unchecked (the caller's first try), a stored id fails the insert on the unique key instead, and the
  -- caller tries again checked; so does a refused expected version, which a retry of a committed
  -- append would meet.
  IF p_check_ids THEN
    SELECT array_agg(e.event_id), array_agg(e.stream_id) INTO v_existing_ids, v_existing_streams
      FROM __schema__.store_events e WHERE e.event_id = ANY (p_event_ids);
  END IF;

  FOR g IN 1 .. v_group_count LOOP
    r_group := g;
    r_refusal := NULL;
    r_detail := NULL;
    r_tenant_id := s_tenants[g];
    r_stream_version := s_versions[g];
    v_stored := 0;
    v_elsewhere := NULL;
    IF v_existing_ids IS NOT NULL THEN
      SELECT count(*) FILTER (WHERE x.stream_id = p_stream_ids[g]), min(x.event_id) FILTER (WHERE x.stream_id <> p_stream_ids[g])
        INTO v_stored, v_elsewhere
        FROM unnest(v_existing_ids, v_existing_streams) AS x(event_id, stream_id)
       WHERE x.event_id IN (SELECT y.event_id FROM unnest(p_groups, p_event_ids) AS y(grp, event_id) WHERE y.grp = g);
    END IF;

    IF p_tenant_ids[g] IS NOT NULL AND s_tenants[g] <> p_tenant_ids[g] THEN
      r_refusal := 'KE002';
    ELSIF v_elsewhere IS NOT NULL THEN
      r_refusal := 'KE003';
      r_detail := v_elsewhere;
    ELSIF v_stored = p_counts[g] THEN
      -- All ids stored already: a retry of an append that committed, answered without checking or writing.
      v_duplicate_groups := v_duplicate_groups || g;
      s_result_versions[g] := s_versions[g];
      CONTINUE;
    ELSIF s_deleted_at[g] IS NOT NULL AND p_expected[g] <> 'no_stream' THEN
      r_refusal := 'KE004';
      r_detail := s_versions[g]::text || ':' || floor(extract(epoch FROM s_deleted_at[g]) * 1000)::bigint::text;
    ELSE
      -- A deleted stream re-created by 'no_stream' passes; otherwise the expected version is checked.
      v_ok := s_deleted_at[g] IS NOT NULL
        OR p_expected[g] = 'any'
        OR (p_expected[g] = 'no_stream' AND s_versions[g] = 0)
        OR (p_expected[g] = 'stream_exists' AND s_versions[g] > 0)
        OR (p_expected[g] = 'exact' AND s_versions[g] = p_expected_versions[g]);
      IF NOT v_ok THEN
        r_refusal := 'KE001';
        r_detail := s_versions[g]::text;
      END IF;
    END IF;
    IF r_refusal IS NOT NULL THEN
      r_tenant_id := NULL;
      RETURN NEXT;
      CONTINUE;
    END IF;

    IF v_stored > 0 THEN
      v_duplicate_groups := v_duplicate_groups || g;
      v_stored_ids := v_stored_ids || ARRAY(
        SELECT x.event_id FROM unnest(v_existing_ids, v_existing_streams) AS x(event_id, stream_id)
         WHERE x.stream_id = p_stream_ids[g]
           AND x.event_id IN (SELECT y.event_id FROM unnest(p_groups, p_event_ids) AS y(grp, event_id) WHERE y.grp = g));
    END IF;
    a_groups := a_groups || g;
    a_streams := a_streams || p_stream_ids[g];
    a_tenants := a_tenants || s_tenants[g];
    a_bases := a_bases || s_versions[g];
    a_versions := a_versions || (s_versions[g] + p_counts[g] - v_stored);
    s_result_versions[g] := s_versions[g] + p_counts[g] - v_stored;
  END LOOP;

  IF cardinality(v_duplicate_groups) > 0 THEN
    RETURN QUERY
      SELECT y.grp, NULL::text, NULL::text, e.tenant_id, s_result_versions[y.grp], e.event_id, e.position,
             e.version, e.recorded_at, e.transaction_id, true, e.event
        FROM unnest(p_groups, p_event_ids) AS y(grp, event_id)
        JOIN __schema__.store_events e ON e.event_id = y.event_id
       WHERE y.grp = ANY (v_duplicate_groups) AND e.stream_id = p_stream_ids[y.grp];
  END IF;
  IF cardinality(a_groups) = 0 THEN
    RETURN;
  END IF;

  UPDATE __schema__.store_streams s
     SET version = u.version, updated_at = now(), deleted_at = NULL
    FROM unnest(a_streams, a_versions) AS u(stream_id, version)
   WHERE s.stream_id = u.stream_id;

  RETURN QUERY
    WITH given AS (
      SELECT x.grp, x.event_id, x.type, x.correlation_id, x.event, x.topic, x.ord
        FROM unnest(p_groups, p_event_ids, p_types, p_correlation_ids, p_events, p_outbox_topics)
             WITH ORDINALITY AS x(grp, event_id, type, correlation_id, event, topic, ord)
    ), accepted AS (
      SELECT a.grp, a.stream_id, a.tenant_id, a.base, a.version
        FROM unnest(a_groups, a_streams, a_tenants, a_bases, a_versions) AS a(grp, stream_id, tenant_id, base, version)
    ), fresh AS (
      SELECT n.grp, n.event_id, n.type, n.correlation_id, n.event, n.topic, n.ord, a.stream_id, a.tenant_id,
             a.version AS stream_version, a.base + row_number() OVER (PARTITION BY n.grp ORDER BY n.ord) AS version
        FROM given n JOIN accepted a ON a.grp = n.grp
       WHERE cardinality(v_stored_ids) = 0 OR n.event_id <> ALL (v_stored_ids)
    ), inserted AS (
      INSERT INTO __schema__.store_events AS e (stream_id, version, tenant_id, event_id, type, correlation_id, event)
      SELECT f.stream_id, f.version, f.tenant_id, f.event_id, f.type, f.correlation_id, f.event::json
        FROM fresh f ORDER BY f.ord
      RETURNING e.event_id, e.position, e.version, e.recorded_at, e.transaction_id, e.stream_id, e.tenant_id
    ), outboxed AS (
      INSERT INTO __schema__.store_outbox (event_id, stream_id, version, position, tenant_id, topic, event)
      SELECT i.event_id, i.stream_id, i.version, i.position, i.tenant_id, nullif(f.topic, ''), f.event::json
        FROM inserted i JOIN fresh f ON f.event_id = i.event_id
       WHERE f.topic IS NOT NULL
       ORDER BY i.position
    )
    SELECT f.grp, NULL::text, NULL::text, i.tenant_id, f.stream_version, i.event_id, i.position, i.version,
           i.recorded_at, i.transaction_id, false, NULL::json
      FROM inserted i JOIN fresh f ON f.event_id = i.event_id;
END;
$$;
`;

/** The call of the batch append function; `schema` is the quoted schema. Returns rows as `AppendBatchRow`. */
export function appendBatchStatement(schema: string): string {
  return `SELECT r_group, r_refusal, r_detail, r_tenant_id, r_stream_version::text, r_event_id, r_position::text,
    r_version::text, (extract(epoch FROM r_recorded_at) * 1000)::float8, r_transaction_id::text, r_duplicate,
    r_event::text
    FROM ${schema}.store_append_batch($1::text[], $2::text[], $3, $4::text[], $5::bigint[], $6::int4[],
      $7::int4[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::boolean)`;
}

/** A row of `appendBatchStatement`, as values: a refusal of a group, or one event as stored. */
export type AppendBatchRow = [
  group: number,
  refusal: string | null,
  detail: string | null,
  tenantId: string | null,
  streamVersion: string | null,
  eventId: string | null,
  position: string | null,
  version: string | null,
  recordedAtMs: number | null,
  transactionId: string | null,
  duplicate: boolean | null,
  storedJson: string | null,
];

/**
 * Parameters of `appendBatchStatement` for appends to distinct streams with distinct event ids, which
 * must be sorted by stream id (`sortByStream`): the function locks the streams in the order given.
 */
export function appendBatchParameters(
  appends: readonly PreparedAppend[],
  defaultTenant: string,
  checkIds: boolean,
): unknown[] {
  const groups: number[] = [];
  const ids: string[] = [];
  const types: string[] = [];
  const correlations: (string | null)[] = [];
  const events: string[] = [];
  const topics: (string | null)[] = [];
  appends.forEach((append, index) => {
    for (const event of append.events) {
      groups.push(index + 1);
      ids.push(event.id);
      types.push(event.type);
      correlations.push(event.correlationId);
      events.push(event.json);
      topics.push(event.outboxTopic);
    }
  });
  const kind = (expected: ExpectedVersion) => (typeof expected === 'number' ? 'exact' : expected);
  return [
    appends.map((a) => a.streamId),
    appends.map((a) => a.tenantId ?? null),
    defaultTenant,
    appends.map((a) => kind(a.expected)),
    appends.map((a) => (typeof a.expected === 'number' ? String(a.expected) : null)),
    appends.map((a) => a.events.length),
    groups,
    ids,
    types,
    correlations,
    events,
    topics,
    checkIds,
  ];
}

/** Orders appends by stream id (code unit order, as PostgreSQL's "C" collation would; any fixed order avoids deadlocks). */
export function sortByStream<T extends { append: PreparedAppend }>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) =>
    a.append.streamId < b.append.streamId ? -1 : a.append.streamId > b.append.streamId ? 1 : 0,
  );
}
