import { describe, expect, it } from 'vitest';
import { meetsCondition, parseDataCondition } from './data-condition.ts';

const event = {
  type: 'clinical.vitals.recorded',
  data: { patientId: 'p-1', status: 'admitted', heartRate: 128, ward: '12', items: [{ code: 'A1' }] },
};
const meets = (text: string) => meetsCondition(event, parseDataCondition(text, 'query.where'));

describe('data conditions', () => {
  it('compares numbers, strings, literals and array items along a path', () => {
    expect(meets('data.heartRate>=120')).toBe(true);
    expect(meets('data.heartRate<100')).toBe(false);
    expect(meets('data.status=="admitted"')).toBe(true);
    expect(meets('data.status==admitted')).toBe(true);
    expect(meets('data.status!=discharged')).toBe(true);
    expect(meets('data.ward==12')).toBe(true);
    expect(meets('data.items[0].code==A1')).toBe(true);
    expect(meets('data.patientId~=p-')).toBe(true);
    expect(meets('data.missing==1')).toBe(false);
    expect(meets('data.missing!=1')).toBe(true);
    expect(meets('type==clinical.vitals.recorded')).toBe(true);
  });

  it('never reaches inherited properties and never evaluates the value', () => {
    expect(meets('data.__proto__!=x')).toBe(true);
    expect(meets('data.constructor==Object')).toBe(false);
    expect(meets('data.status==process.exit(1)')).toBe(false);
  });

  it('says where a condition does not parse', () => {
    expect(() => parseDataCondition('data.heartRate 120', 'query.where')).toThrow(
      expect.objectContaining({
        issues: [
          expect.objectContaining({
            path: 'query.where',
            message: expect.stringMatching(/^at character 15 .*expected an operator/),
          }),
        ],
      }),
    );
    expect(() => parseDataCondition('data..x==1', 'query.where.1')).toThrow(/at character 6 .*a field name/);
    expect(() => parseDataCondition('data.items[x]==1', 'q')).toThrow(/array index/);
    expect(() => parseDataCondition('data.x>=', 'q')).toThrow(/expected a value/);
    expect(() => parseDataCondition('==1', 'q')).toThrow(/at character 1 .*attribute name/);
  });
});
