import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../errors/options.ts';
import { createCatalog } from '../../events/catalog.ts';
import type { Transport } from '../../transport/transport.ts';
import { createRouter } from '../router.ts';
import type { RouterOptions } from '../router-port.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_RETRY_DELAYS_MS, parseRouterOptions } from './router-options.ts';

const base = {
  transport: { name: 'embedded' } as Transport,
  catalog: createCatalog({ topics: [] }),
  group: 'g',
};

describe('router options', () => {
  it('fills in every default once', () => {
    const settings = parseRouterOptions(base);
    expect(settings).toMatchObject({
      group: 'g',
      startFrom: 'earliest',
      concurrency: DEFAULT_CONCURRENCY,
      sessionTimeoutMs: 10_000,
      commitIntervalMs: 100,
      middleware: [],
      retry: {},
      delayedRetries: DEFAULT_RETRY_DELAYS_MS,
      validate: true,
      tracing: true,
      lagIntervalMs: 5_000,
      shutdownSignals: ['SIGTERM', 'SIGINT'],
    });
    expect(settings.transport).toBe(base.transport);
    expect(settings.isRetryable(Object.assign(new Error('x'), { code: 'KEEL_VALIDATION' }))).toBe(false);
  });

  it('keeps what the caller set', () => {
    const isRetryable = () => true;
    const settings = parseRouterOptions({
      ...base,
      concurrency: 2,
      retry: false,
      isRetryable,
      delayedRetries: [],
    });
    expect(settings).toMatchObject({ concurrency: 2, retry: false, delayedRetries: [] });
    expect(settings.isRetryable).toBe(isRetryable);
  });

  it('refuses broken options at createRouter, naming each key', () => {
    const broken = {
      ...base,
      group: 'no spaces',
      concurrency: 0,
      validate: 'yes',
    } as unknown as RouterOptions;
    let error: unknown;
    try {
      createRouter(broken);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).code).toBe('KEEL_OPTIONS');
    expect((error as OptionsError).issues.map((issue) => issue.split(':')[0])).toEqual([
      'router.group',
      'router.concurrency',
      'router.validate',
    ]);
  });
});
