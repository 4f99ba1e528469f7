import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { currentHandlingContext, inheritedEnvelope } from '../handling-context.ts';
import { handlerContext } from '../test-support/handler-context.ts';
import { correlation } from './correlation.ts';

const event = (fields: Partial<CloudEvent>) => ({ id: 'e1', type: 't', data: {}, ...fields }) as CloudEvent;

describe('correlation middleware', () => {
  it('makes the handled event the handling context while the handler runs, and only then', async () => {
    const handled = event({ id: 'e7', correlationid: 'c1', tenantid: 'acme' });
    let inside: unknown;
    let inherited: unknown;
    await correlation()(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      inside = currentHandlingContext();
      inherited = inheritedEnvelope();
    })(handled, handlerContext({ group: 'billing' }));
    expect(inside).toEqual({ event: handled, group: 'billing' });
    expect(inherited).toEqual({ correlationId: 'c1', causationId: 'e7', tenantId: 'acme' });
    expect(currentHandlingContext()).toBeUndefined();
    expect(inheritedEnvelope()).toEqual({});
  });

  it("starts a correlation at the handled event's id when it had none", () => {
    let inherited: unknown;
    correlation()(() => {
      inherited = inheritedEnvelope();
    })(event({ id: 'e9' }), handlerContext());
    expect(inherited).toEqual({ correlationId: 'e9', causationId: 'e9' });
  });

  it('answers a synchronous handler synchronously and passes its throw on', () => {
    const run = correlation();
    expect(run(() => undefined)(event({}), handlerContext())).toBeUndefined();
    expect(() =>
      run(() => {
        throw new Error('sync');
      })(event({}), handlerContext()),
    ).toThrow('sync');
  });

  it('keeps concurrent handlers apart', async () => {
    const seen: string[] = [];
    const run = correlation()(async (handled) => {
      await new Promise((resolve) => setTimeout(resolve, handled.id === 'a' ? 10 : 1));
      seen.push(`${handled.id}:${currentHandlingContext()?.event.id}`);
    });
    await Promise.all([run(event({ id: 'a' }), handlerContext()), run(event({ id: 'b' }), handlerContext())]);
    expect(seen.sort()).toEqual(['a:a', 'b:b']);
  });
});
