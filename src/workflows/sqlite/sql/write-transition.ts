import type { InstanceWrite } from '../../backend.ts';

/**
 * Writes a transition to the instance row, fenced by the lease: no row comes back when another process
 * claimed the instance since (the append then rolls back). Releasing sets the row due at `wakeAt`, or
 * now when an inbox item arrived since the engine last read the inbox (so no wake-up is lost).
 */
export const WRITE_TRANSITION = `
  UPDATE workflow_instances SET
    status = @status,
    step = @step,
    stream_version = @streamVersion,
    sla_breached = @slaBreached,
    ended_at = @endedAt,
    updated_at = @now,
    inbox_seen = @inboxSeen,
    cancel_requested = CASE WHEN @clearCancel = 1 THEN 0 ELSE cancel_requested END,
    wake_at = CASE
      WHEN @release = 0 THEN wake_at
      WHEN @endedAt IS NOT NULL THEN NULL
      WHEN inbox_version <> @inboxSeen THEN @now
      ELSE @wakeAt END,
    lease_owner = CASE WHEN @release = 1 THEN NULL ELSE lease_owner END,
    lease_until = CASE WHEN @release = 1 THEN NULL ELSE lease_until END
  WHERE instance_id = @instanceId AND lease_owner = @owner AND lease_epoch = @epoch
  RETURNING inbox_version`;

/** Deletes inbox items a transition consumed (ids as a JSON array). */
export const DELETE_CONSUMED = `
  DELETE FROM workflow_inbox WHERE instance_id = ? AND id IN (SELECT value FROM json_each(?))`;

/** Forgets the replies an instance waited on, but the one it waits on now (NULL: all). */
export const CLEAR_WAITS = `
  DELETE FROM workflow_waits WHERE instance_id = ? AND correlation_key IS NOT ?`;

/** Records the reply key an instance waits on. */
export const ADD_WAIT = `
  INSERT INTO workflow_waits (correlation_key, instance_id, created_at) VALUES (?, ?, ?)
  ON CONFLICT (correlation_key) DO NOTHING`;

/** Deletes an ended instance's inbox and waits. */
export const CLEAR_ENDED = [
  'DELETE FROM workflow_inbox WHERE instance_id = ?',
  'DELETE FROM workflow_waits WHERE instance_id = ?',
] as const;

/** Named parameters of WRITE_TRANSITION (booleans as 0/1: SQLite binds no booleans). */
export function writeTransitionParams(write: InstanceWrite): Record<string, unknown> {
  return {
    instanceId: write.instanceId,
    owner: write.lease.owner,
    epoch: write.lease.epoch,
    status: write.status,
    step: write.step,
    streamVersion: write.streamVersion,
    slaBreached: write.slaBreached ? 1 : 0,
    endedAt: write.endedAt,
    now: write.now,
    inboxSeen: write.inboxSeen,
    clearCancel: write.clearCancel ? 1 : 0,
    release: write.release === undefined ? 0 : 1,
    wakeAt: write.release?.wakeAt ?? null,
  };
}
