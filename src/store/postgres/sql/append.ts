/**
 * The append as one PL/pgSQL function, so an append without hooks is one round trip. It locks the stream
 * row (appends to one stream queue there and so commit in version order), checks tenant, duplicate ids
 * and the expected version, inserts the new events in order (their positions and versions ascend
 * together), moves the stream's version, and returns every given event as stored. Refusals are raised
 * with Keel SQLSTATEs (KE001 wrong expected version: DETAIL = actual version; KE002 another tenant's
 * stream; KE003 id stored in another stream: DETAIL = the id), so nothing of a refused append commits.
 * Each row's `transaction_id` defaults to `pg_current_xact_id()`: what gap-free reads order by.
 * `__schema__` stands for the store's schema. Created by migration 1, dropped by migration 2 in favour of
 * `store_append_batch` (`append-batch.ts`); kept verbatim because migration 1's checksum covers it.
 */
export const APPEND_FUNCTION = `
CREATE FUNCTION __schema__.store_append(
  p_stream_id text,
  p_tenant_id text,
  p_default_tenant text,
  p_expected text,
  p_expected_version bigint,
  p_event_ids text[],
  p_types text[],
  p_correlation_ids text[],
  p_events text[]
) RETURNS TABLE (
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
  v_tenant text;
  v_version bigint;
  v_stored integer;
  v_elsewhere text;
  v_count integer := cardinality(p_event_ids);
BEGIN
  SELECT s.tenant_id, s.version INTO v_tenant, v_version
    FROM __schema__.store_streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO __schema__.store_streams AS s (stream_id, tenant_id, version)
      VALUES (p_stream_id, coalesce(p_tenant_id, p_default_tenant), 0)
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING s.tenant_id, s.version INTO v_tenant, v_version;
    IF NOT FOUND THEN
      -- A concurrent first append created the stream and committed: queue behind it like any append.
      SELECT s.tenant_id, s.version INTO v_tenant, v_version
        FROM __schema__.store_streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
    END IF;
  END IF;

  IF p_tenant_id IS NOT NULL AND v_tenant <> p_tenant_id THEN
    RAISE EXCEPTION USING ERRCODE = 'KE002', MESSAGE = 'keel: the stream belongs to another tenant';
  END IF;

  SELECT count(*) FILTER (WHERE e.stream_id = p_stream_id), min(e.event_id) FILTER (WHERE e.stream_id <> p_stream_id)
    INTO v_stored, v_elsewhere
    FROM __schema__.store_events e WHERE e.event_id = ANY (p_event_ids);
  IF v_elsewhere IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'KE003', MESSAGE = 'keel: event id stored in another stream', DETAIL = v_elsewhere;
  END IF;

  -- All ids stored already: a retry of an append that committed, answered without checking or writing.
  IF v_stored < v_count THEN
    IF NOT (p_expected = 'any'
        OR (p_expected = 'no_stream' AND v_version = 0)
        OR (p_expected = 'stream_exists' AND v_version > 0)
        OR (p_expected = 'exact' AND v_version = p_expected_version)) THEN
      RAISE EXCEPTION USING ERRCODE = 'KE001', MESSAGE = 'keel: wrong expected version', DETAIL = v_version::text;
    END IF;

    INSERT INTO __schema__.store_events (stream_id, version, tenant_id, event_id, type, correlation_id, event)
    SELECT p_stream_id, v_version + row_number() OVER (ORDER BY g.ord), v_tenant, g.event_id, g.type,
           g.correlation_id, g.event::json
      FROM unnest(p_event_ids, p_types, p_correlation_ids, p_events)
           WITH ORDINALITY AS g(event_id, type, correlation_id, event, ord)
     WHERE v_stored = 0
        OR NOT EXISTS (SELECT 1 FROM __schema__.store_events e WHERE e.event_id = g.event_id)
     ORDER BY g.ord;

    v_version := v_version + (v_count - v_stored);
    UPDATE __schema__.store_streams s SET version = v_version, updated_at = now()
     WHERE s.stream_id = p_stream_id;
  END IF;

  RETURN QUERY
    SELECT v_tenant, v_version, e.event_id, e.position, e.version, e.recorded_at, e.transaction_id,
           e.transaction_id <> pg_current_xact_id(),
           CASE WHEN e.transaction_id <> pg_current_xact_id() THEN e.event END
      FROM __schema__.store_events e WHERE e.event_id = ANY (p_event_ids);
END;
$$;
`;
