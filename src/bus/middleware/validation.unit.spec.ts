import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { defineEvent } from '../../events/define-event.ts';
import { ValidationError } from '../../events/errors.ts';
import { handlerContext } from '../test-support/handler-context.ts';
import { checkEventData, validation } from './validation.ts';

const Measured = defineEvent({
  type: 'test.measured',
  version: 2,
  schema: z.object({ value: z.number(), unit: z.string().default('mg') }),
  partitionKey: () => 'k',
});
const event = (data: unknown) => ({ id: 'e1', type: Measured.type, data }) as CloudEvent;

describe('validation middleware', () => {
  it('hands the handler the data as the schema parsed it (defaults filled in)', () => {
    const seen: unknown[] = [];
    const result = validation(Measured)((checked) => void seen.push(checked.data))(
      event({ value: 3 }),
      handlerContext(),
    );
    expect(result).toBeUndefined();
    expect(seen).toEqual([{ value: 3, unit: 'mg' }]);
  });

  it('throws a ValidationError naming each bad field, and never calls the handler', () => {
    let called = false;
    const run = validation(Measured)(() => {
      called = true;
    });
    let failure: unknown;
    try {
      run(event({ value: 'three', unit: 4 }), handlerContext());
    } catch (error) {
      failure = error;
    }
    expect(called).toBe(false);
    expect(failure).toBeInstanceOf(ValidationError);
    const error = failure as ValidationError;
    expect(error.code).toBe('KEEL_VALIDATION');
    expect(error.message).toContain('e1');
    expect(error.message).toContain('test.measured v2');
    expect(error.eventType).toBe('test.measured');
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['data.unit', 'data.value']);
  });

  it('checkEventData leaves the envelope as it was and replaces only the data', () => {
    const original = { ...event({ value: 1 }), correlationid: 'c1' };
    const checked = checkEventData(Measured, original);
    expect(checked).not.toBe(original);
    expect(checked).toEqual({ ...original, data: { value: 1, unit: 'mg' } });
    expect(original.data).toEqual({ value: 1 });
  });
});
