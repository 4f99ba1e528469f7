import type { CloudEvent } from '../../events/cloud-event.ts';
import type { Inbox } from '../inbox/inbox.ts';
import type { HandlerContext } from './handler-context.ts';
import type { HandlerFunction, Middleware } from './middleware.ts';

/**
 * Skips events the group already handled, by id, and records each one the handler finished. For an
 * effect that must happen exactly once, write it in the inbox's own transaction (`SqliteInbox.runOnce`),
 * since a crash between the effect and the record would otherwise let it run twice. A batch call goes on
 * with the events not seen yet (none left: nothing to call), and each of them is recorded once it is done.
 */
export function dedupe(inbox: Inbox): Middleware {
  return (next) => async (event, context) => {
    if (context.batch !== undefined) return dedupeBatch(inbox, next, context.batch, context);
    if (await inbox.seen(context.group, event.id)) return;
    await next(event, context);
    await inbox.remember(context.group, event.id);
  };
}

async function dedupeBatch(
  inbox: Inbox,
  next: HandlerFunction,
  batch: readonly CloudEvent[],
  context: HandlerContext,
): Promise<void> {
  const unseen: CloudEvent[] = [];
  for (const event of batch) if (!(await inbox.seen(context.group, event.id))) unseen.push(event);
  const first = unseen[0];
  if (first === undefined) return;
  await next(first, unseen.length === batch.length ? context : { ...context, batch: unseen });
  for (const event of unseen) await inbox.remember(context.group, event.id);
}
