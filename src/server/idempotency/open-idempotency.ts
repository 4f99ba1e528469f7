import type { Logger } from 'pino';
import type { Publisher } from '../../bus/publisher-port.ts';
import type { Catalog } from '../../events/catalog.ts';
import { createIdempotencyStore, type IdempotencyStore } from './idempotency-store.ts';
import { createIdempotentPublish, type IdempotentPublish } from './idempotent-publish.ts';

/** The node's idempotent publish, its store, and how to stop both. */
export interface NodeIdempotency {
  readonly publish: IdempotentPublish;
  readonly store: IdempotencyStore;
  /** Stops pruning and closes the store. */
  close(): void;
}

/** Longest pause between two prunings of expired entries, in milliseconds. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Opens the idempotency table in the node's SQLite file and prunes expired entries every minute (or every
 * retention, when shorter); undefined when `retentionMs` is 0 (turned off).
 */
export function openNodeIdempotency(options: {
  path: string;
  synchronous: 'normal' | 'full';
  retentionMs: number;
  publisher: Publisher;
  catalog: Catalog;
  logger: Logger;
}): NodeIdempotency | undefined {
  if (options.retentionMs === 0) return undefined;
  const { logger } = options;
  const store = createIdempotencyStore(options);
  const prune = () => {
    try {
      const pruned = store.prune();
      if (pruned > 0) logger.debug({ pruned }, 'expired idempotency entries pruned');
    } catch (error) {
      logger.warn({ err: error }, 'pruning idempotency entries failed');
    }
  };
  prune();
  const timer = setInterval(prune, Math.min(PRUNE_EVERY_MS, options.retentionMs));
  timer.unref();
  return {
    publish: createIdempotentPublish({
      publisher: options.publisher,
      catalog: options.catalog,
      store,
      logger,
    }),
    store,
    close() {
      clearInterval(timer);
      store.close();
    },
  };
}
