/**
 * Makes an unended instance due for an inbox item: bumps its inbox version (a holder that parks sees
 * it) and, when no process holds it, sets it due now. No row: unknown or ended. Cancels also raise
 * the flag a holder's lease renewal reads, so a running action is aborted.
 */
export const TOUCH_FOR_INBOX = `
  UPDATE workflow_instances SET
    inbox_version = inbox_version + 1,
    cancel_requested = CASE WHEN @kind = 'cancel' THEN 1 ELSE cancel_requested END,
    wake_at = CASE WHEN lease_owner IS NULL THEN @now ELSE wake_at END,
    updated_at = @now
  WHERE instance_id = @instanceId AND ended_at IS NULL
  RETURNING instance_id`;

/** Adds an item to an instance's inbox. */
export const INSERT_INBOX = `
  INSERT INTO workflow_inbox (instance_id, kind, name, payload, created_at)
  VALUES (@instanceId, @kind, @name, @payload, @now)`;

/** The instance waiting for a reply with this key. */
export const FIND_WAIT = 'SELECT instance_id FROM workflow_waits WHERE correlation_key = ?';
