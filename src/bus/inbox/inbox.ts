/**
 * The inbox of idempotent consumers: which event ids each consumer group has already handled, so a
 * redelivered event has no second effect.
 */
export interface Inbox {
  /** True when `group` already handled the event `eventId`. */
  seen(group: string, eventId: string): Promise<boolean>;
  /** Records that `group` handled `eventId` (recording twice is harmless). */
  remember(group: string, eventId: string): Promise<void>;
  /** Deletes records older than the inbox's retention; resolves with how many went. */
  expire(): Promise<number>;
  close(): Promise<void>;
}
