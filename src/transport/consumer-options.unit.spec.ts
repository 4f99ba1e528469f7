import { describe, expect, it } from 'vitest';
import { OptionsError } from '../errors/options.ts';
import { consumerOptionsSchema, parseConsumerOptions } from './consumer-options.ts';
import { embeddedTransportOptionsSchema } from './embedded/embedded-transport.ts';

const third = (sessionTimeoutMs: number) => Math.max(1, Math.floor(sessionTimeoutMs / 3));

describe('consumer options', () => {
  it('applies the defaults, deduplicates and sorts the topics, and picks the heartbeat from the session', () => {
    const parsed = parseConsumerOptions(
      consumerOptionsSchema,
      { group: 'g', topics: ['b', 'a', 'b'] },
      third,
    );
    expect(parsed).toEqual({
      group: 'g',
      topics: ['a', 'b'],
      startFrom: 'earliest',
      maxRecords: 500,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 3_333,
      coPartitioned: false,
    });
    const given = parseConsumerOptions(
      consumerOptionsSchema,
      { group: 'g', topics: ['a'], sessionTimeoutMs: 300, heartbeatIntervalMs: 50 },
      third,
    );
    expect(given.heartbeatIntervalMs).toBe(50);
  });

  it('keeps the rebalance callbacks as given', () => {
    const onPartitionsRevoked = async () => undefined;
    const parsed = parseConsumerOptions(
      consumerOptionsSchema,
      { group: 'g', topics: ['a'], onPartitionsRevoked },
      third,
    );
    expect(parsed.onPartitionsRevoked).toBe(onPartitionsRevoked);
  });

  it('refuses broken options with an OptionsError naming each key', () => {
    const parse = (options: object) =>
      parseConsumerOptions(consumerOptionsSchema, { group: 'g', topics: ['a'], ...options } as never, third);
    expect(() => parse({ group: '' })).toThrow(/consumer\.group: must be a non-empty string/);
    expect(() => parse({ topics: [] })).toThrow(/consumer\.topics: must name at least one topic/);
    expect(() => parse({ maxRecords: 0 })).toThrow(/consumer\.maxRecords: must be a positive integer, got 0/);
    expect(() => parse({ startFrom: 'middle' })).toThrow(/consumer\.startFrom/);
    expect(() => parse({ sessionTimeoutMs: 100, heartbeatIntervalMs: 100 })).toThrow(
      /consumer\.heartbeatIntervalMs: must be below sessionTimeoutMs \(100\), got 100/,
    );
    expect(() => parse({ maxRecords: 1.5 })).toThrow(OptionsError);
  });
});

describe('embedded transport options', () => {
  it('applies the defaults', () => {
    expect(embeddedTransportOptionsSchema.parse({ path: ':memory:' })).toEqual({
      path: ':memory:',
      synchronous: 'full',
      pollIntervalMs: 2,
      maintenanceIntervalMs: 60_000,
      busyTimeoutMs: 5_000,
      tombstoneRetentionMs: 86_400_000,
      compression: 'none',
      scanThreads: 2,
    });
  });
});
