import { APPEND_BATCH_FUNCTION } from './append-batch.ts';

/**
 * Takes the transaction-level advisory lock of every stream of the batch, in ascending key order (so
 * batches never deadlock), before the function writes or row-locks anything. Why: readers order by
 * (transaction id, position), and PostgreSQL gives a transaction its id at its first write or row lock.
 * Without these locks a batch could take its id on one stream and then wait for another's row lock,
 * while a later transaction took that stream, appended its next versions and committed with a higher id:
 * the later versions then came first in the global order (issue 12). With them, a transaction that waits
 * for a stream has no id yet, and each stream's appenders take their ids in the order they append.
 * The key is the stream id hashed with the schema's streams table as seed, so schemas do not contend.
 */
const STREAM_LOCKS = `BEGIN
  FOR v_lock_key IN
    SELECT DISTINCT hashtextextended(s.stream_id, '__schema__.store_streams'::regclass::oid::bigint)
      FROM unnest(p_stream_ids) AS s(stream_id) ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_lock_key);
  END LOOP;
`;

function replaceOnce(text: string, search: string, replacement: string): string {
  const at = text.indexOf(search);
  if (at < 0 || text.indexOf(search, at + 1) >= 0)
    throw new Error(`append-batch: "${search}" must occur once`);
  return text.slice(0, at) + replacement + text.slice(at + search.length);
}

/**
 * Migration 3's `store_append_batch`: migration 2's function (same signature, checks and writes), with
 * the stream locks above taken first. `__schema__` stands for the store's schema. Never edit it: add a
 * migration.
 */
export const APPEND_BATCH_WITH_STREAM_LOCKS_FUNCTION = replaceOnce(
  replaceOnce(
    replaceOnce(APPEND_BATCH_FUNCTION, 'CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'),
    'DECLARE\n',
    'DECLARE\n  v_lock_key bigint;\n',
  ),
  'BEGIN\n',
  STREAM_LOCKS,
);
