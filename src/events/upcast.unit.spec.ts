import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from './define-event.ts';
import { UpcastError } from './errors.ts';
import { upcastData } from './upcast.ts';

const Counted = defineEvent({
  type: 'test.counted',
  version: 3,
  schema: z.object({ count: z.number(), unit: z.string() }),
  upcasters: [
    { fromVersion: 2, upcast: (d) => ({ ...(d as object), unit: 'items' }) },
    { fromVersion: 1, upcast: (d) => ({ count: Number((d as { n: string }).n) }) },
  ],
});

function upcastError(action: () => unknown): UpcastError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(UpcastError);
    return error as UpcastError;
  }
  throw new Error('expected an UpcastError');
}

describe('upcastData', () => {
  it('applies the chain of upcasters in version order', () => {
    expect(upcastData(Counted, 1, { n: '4' })).toEqual({ count: 4, unit: 'items' });
    expect(upcastData(Counted, 2, { count: 4 })).toEqual({ count: 4, unit: 'items' });
  });

  it('returns current-version data untouched', () => {
    const data = { count: 1, unit: 'kg' };
    expect(upcastData(Counted, 3, data)).toBe(data);
  });

  it('refuses a version newer than the definition', () => {
    const error = upcastError(() => upcastData(Counted, 4, {}));
    expect(error).toMatchObject({
      reason: 'newer_version',
      fromVersion: 4,
      toVersion: 3,
      eventType: 'test.counted',
    });
    expect(error.code).toBe('KEEL_UPCAST');
  });

  it('refuses when an upcaster in the chain is missing', () => {
    const Partial = defineEvent({
      type: 'test.partial',
      version: 3,
      schema: z.object({}),
      upcasters: [{ fromVersion: 2, upcast: (d) => d }],
    });
    expect(upcastError(() => upcastData(Partial, 1, {})).reason).toBe('missing_upcaster');
    expect(upcastData(Partial, 2, { a: 1 })).toEqual({ a: 1 });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses version %s', (version) => {
    expect(upcastError(() => upcastData(Counted, version, {})).reason).toBe('invalid_version');
  });

  it('wraps an upcaster that throws, keeping the cause', () => {
    const cause = new Error('boom');
    const Failing = defineEvent({
      type: 'test.failing',
      version: 2,
      schema: z.object({}),
      upcasters: [
        {
          fromVersion: 1,
          upcast: () => {
            throw cause;
          },
        },
      ],
    });
    const error = upcastError(() => upcastData(Failing, 1, {}));
    expect(error.reason).toBe('upcaster_failed');
    expect(error.cause).toBe(cause);
  });
});
