import type { InstanceWrite } from '../../backend.ts';

/**
 * Writes a transition to the instance row, fenced by the lease: no row comes back when another process
 * claimed the instance since (the append then rolls back). Releasing sets the row due at `wakeAt`, or now
 * when an inbox item arrived since the engine last read the inbox. The CASE reads the row's own columns,
 * which PostgreSQL re-evaluates on the newest row version after waiting for a concurrent delivery's
 * lock, so a wake-up is never lost.
 */
export function writeTransitionStatement(schema: string): string {
  return `
    UPDATE ${schema}.workflow_instances SET
      status = $4,
      step = $5,
      stream_version = $6::integer,
      sla_breached = $7::boolean,
      ended_at = $8::bigint,
      updated_at = $9::bigint,
      inbox_seen = $10::bigint,
      cancel_requested = cancel_requested AND NOT $11::boolean,
      wake_at = CASE
        WHEN NOT $12::boolean THEN wake_at
        WHEN $8::bigint IS NOT NULL THEN NULL
        WHEN inbox_version <> $10::bigint THEN $9::bigint
        ELSE $13::bigint END,
      lease_owner = CASE WHEN $12::boolean THEN NULL ELSE lease_owner END,
      lease_until = CASE WHEN $12::boolean THEN NULL ELSE lease_until END
    WHERE instance_id = $1 AND lease_owner = $2 AND lease_epoch = $3::bigint
    RETURNING inbox_version::text`;
}

/** Parameters of the transition statement. */
export function writeTransitionParams(write: InstanceWrite): unknown[] {
  return [
    write.instanceId,
    write.lease.owner,
    write.lease.epoch,
    write.status,
    write.step,
    write.streamVersion,
    write.slaBreached,
    write.endedAt,
    write.now,
    write.inboxSeen,
    write.clearCancel,
    write.release !== undefined,
    write.release?.wakeAt ?? null,
  ];
}

/** Deletes inbox items a transition consumed. */
export function deleteConsumedStatement(schema: string): string {
  return `DELETE FROM ${schema}.workflow_inbox WHERE instance_id = $1 AND id = ANY($2::bigint[])`;
}

/** Forgets the replies an instance waited on but the one it waits on now (NULL: all), and records that one. */
export function replaceWaitStatement(schema: string): string {
  return `
    WITH cleared AS (
      DELETE FROM ${schema}.workflow_waits WHERE instance_id = $1 AND correlation_key IS DISTINCT FROM $2
    )
    INSERT INTO ${schema}.workflow_waits (correlation_key, instance_id, created_at)
    SELECT $2, $1, $3::bigint WHERE $2 IS NOT NULL
    ON CONFLICT (correlation_key) DO NOTHING`;
}

/** Deletes an ended instance's inbox and waits. */
export function clearEndedStatement(schema: string): string {
  return `
    WITH inbox AS (DELETE FROM ${schema}.workflow_inbox WHERE instance_id = $1)
    DELETE FROM ${schema}.workflow_waits WHERE instance_id = $1`;
}
