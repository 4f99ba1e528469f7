import { describe, expect, it } from 'vitest';
import { isTimestamp, timestampToEpochMs } from './timestamp.ts';

describe('timestampToEpochMs', () => {
  const instant = Date.UTC(2018, 3, 5, 17, 31, 0);

  it.each([
    '2018-04-05T17:31:00Z',
    '2018-04-05T17:31:00.000000000Z',
    '2018-04-05T18:31:00+01:00',
    '2018-04-05T16:31:00-01:00',
    '2018-04-05T23:01:00+05:30',
  ])('reads %s as the same instant', (value) => {
    expect(timestampToEpochMs(value)).toBe(instant);
  });

  it('keeps milliseconds and drops finer fractions', () => {
    expect(timestampToEpochMs('2018-04-05T17:31:00.1Z')).toBe(instant + 100);
    expect(timestampToEpochMs('2018-04-05T17:31:00.123987Z')).toBe(instant + 123);
  });

  it('reads years below 100 literally', () => {
    expect(new Date(timestampToEpochMs('0050-01-01T00:00:00Z') ?? 0).getUTCFullYear()).toBe(50);
  });

  it('returns undefined for what is not an RFC 3339 timestamp', () => {
    expect(timestampToEpochMs('2018-04-05')).toBeUndefined();
    expect(isTimestamp('2018-04-05T17:31:00+24:00')).toBe(false);
    expect(isTimestamp('2000-02-29T00:00:00Z')).toBe(true);
    expect(isTimestamp('1900-02-29T00:00:00Z')).toBe(false);
  });
});
