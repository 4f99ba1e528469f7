import type { Inbox } from '../inbox/inbox.ts';
import type { Middleware } from './middleware.ts';

/**
 * Skips events the group already handled, by id, and records each one the handler finished. For an
 * effect that must happen exactly once, write it in the inbox's own transaction (`SqliteInbox.runOnce`),
 * since a crash between the effect and the record would otherwise let it run twice.
 */
export function dedupe(inbox: Inbox): Middleware {
  return (next) => async (event, context) => {
    if (await inbox.seen(context.group, event.id)) return;
    await next(event, context);
    await inbox.remember(context.group, event.id);
  };
}
