import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { Inbox } from '../inbox/inbox.ts';
import { handlerContext, outcomeOf } from '../test-support/handler-context.ts';
import { dedupe } from './dedupe.ts';
import type { HandlerContext } from './handler-context.ts';

const event = (id: string) => ({ id, type: 't', data: {} }) as CloudEvent;

/** An inbox in a Set, keyed by group and event id. */
function memoryInbox(): Inbox & { ids: Set<string> } {
  const ids = new Set<string>();
  return {
    ids,
    seen: async (group, id) => ids.has(`${group}/${id}`),
    remember: async (group, id) => {
      ids.add(`${group}/${id}`);
    },
    expire: async () => 0,
    close: async () => {},
  };
}

describe('dedupe middleware', () => {
  it('handles an event once per group: records it when handled, skips it after', async () => {
    const inbox = memoryInbox();
    const handled: string[] = [];
    const run = dedupe(inbox)((e, context) => void handled.push(`${context.group}/${e.id}`));
    await run(event('e1'), handlerContext({ group: 'a' }));
    await run(event('e1'), handlerContext({ group: 'a' }));
    await run(event('e1'), handlerContext({ group: 'b' }));
    expect(handled).toEqual(['a/e1', 'b/e1']);
    expect([...inbox.ids]).toEqual(['a/e1', 'b/e1']);
  });

  it('does not record an event whose handler failed, so its redelivery runs again', async () => {
    const inbox = memoryInbox();
    let calls = 0;
    const run = dedupe(inbox)(() => {
      calls++;
      if (calls === 1) throw new Error('down');
    });
    expect(await outcomeOf(() => run(event('e1'), handlerContext()))).toBe('down');
    expect(inbox.ids.size).toBe(0);
    expect(await outcomeOf(() => run(event('e1'), handlerContext()))).toBe('ok');
    expect(calls).toBe(2);
    expect([...inbox.ids]).toEqual(['g/e1']);
  });

  it('calls a batch with only the events not seen yet, and records each of them once handled', async () => {
    const inbox = memoryInbox();
    await inbox.remember('g', 'e2');
    const calls: Array<{ first: string; batch: string[] }> = [];
    const run = dedupe(inbox)((first: CloudEvent, context: HandlerContext) => {
      calls.push({ first: first.id, batch: (context.batch ?? []).map((e) => e.id) });
    });
    const batch = [event('e1'), event('e2'), event('e3')];
    await run(batch[0]!, handlerContext({ batch }));
    expect(calls).toEqual([{ first: 'e1', batch: ['e1', 'e3'] }]);
    expect([...inbox.ids].sort()).toEqual(['g/e1', 'g/e2', 'g/e3']);
    await run(batch[0]!, handlerContext({ batch }));
    expect(calls).toHaveLength(1);
  });

  it('records none of a batch whose call failed', async () => {
    const inbox = memoryInbox();
    const batch = [event('e1'), event('e2')];
    const run = dedupe(inbox)(() => {
      throw new Error('batch down');
    });
    expect(await outcomeOf(() => run(batch[0]!, handlerContext({ batch })))).toBe('batch down');
    expect(inbox.ids.size).toBe(0);
  });
});
