import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Middleware } from '../../bus/middleware/middleware.ts';
import type { EventSealer } from '../../bus/publisher-port.ts';
import { blobConnection } from '../../config/blob-connection.ts';
import type { KeelConfig } from '../../config/config-schema.ts';
import type { ConfigSources } from '../../config/load-config.ts';
import type { Catalog } from '../../events/catalog.ts';
import { type BlobStore, createFolderBlobStore } from '../../registry/claim-check/blob-store.ts';
import {
  claimCheckData,
  createClaimCheckEncoder,
  expireBlobs,
} from '../../registry/claim-check/claim-check.ts';
import { createS3BlobStore } from '../../registry/claim-check/s3/s3-blob-store.ts';

/**
 * The node's claim check: large data to a blob folder (a subfolder per topic) or an S3-compatible bucket (a
 * prefix per topic), swept with the topic's retention.
 */
export interface NodeClaimCheck {
  /** The blob folder (`KEEL_BLOB_DIR`, default `<dataDir>/blobs`), or the bucket `KEEL_BLOB_S3_BUCKET`. */
  readonly store: BlobStore;
  /** The publisher's step that moves data over `KEEL_CLAIM_CHECK_BYTES` to the store. */
  readonly encoder: EventSealer;
  /** Router middleware giving handlers the data back, checked against its SHA-256 (for routers on the node's transport). */
  readonly middleware: Middleware;
  /** Removes the blobs of every topic with a retention that are older than it; resolves with how many went. */
  sweep(): Promise<number>;
  /** Sweeps every `KEEL_BLOB_SWEEP_INTERVAL_MS` milliseconds until `close`. */
  start(): void;
  /** Stops the sweeps (one under way finishes) and lets go of the store's connections. */
  close(): void;
}

/** What the node's claim check is made of. */
export interface NodeClaimCheckOptions {
  config: KeelConfig;
  catalog: Catalog;
  registry: Registry;
  logger: Logger;
  /** Where each setting came from, so a wrong blob setting is named as the operator wrote it. */
  sources?: ConfigSources;
}

/** The blob store the configuration names, and how to let go of it. */
function openBlobStore(
  config: KeelConfig,
  sources: ConfigSources | undefined,
): BlobStore & { close(): void } {
  const connection = blobConnection(config, sources);
  if (connection.store === 'folder') return { ...createFolderBlobStore(connection.folder), close: () => {} };
  return createS3BlobStore({ ...connection, setting: 'KEEL_BLOB_S3_BUCKET' });
}

/** The node's claim check, or undefined when `KEEL_CLAIM_CHECK_BYTES` is not set. */
export function openNodeClaimCheck(options: NodeClaimCheckOptions): NodeClaimCheck | undefined {
  const { config, catalog, logger } = options;
  if (config.claimCheckBytes === undefined) return undefined;
  const store = openBlobStore(config, options.sources);
  const expired = new Counter({
    name: 'keel_claim_check_blobs_expired_total',
    help: 'Claim-checked payloads removed from the blob folder because their topic retention passed',
    labelNames: ['topic'],
    registers: [options.registry],
  });
  const failed = new Counter({
    name: 'keel_claim_check_sweep_errors_total',
    help: 'Sweeps of a topic blob folder that failed (the next sweep tries again)',
    labelNames: ['topic'],
    registers: [options.registry],
  });
  const sweepTopic = async (topic: string, retentionMs: number): Promise<number> => {
    try {
      const removed = await expireBlobs(store, retentionMs, Date.now(), topic);
      if (removed.length > 0) {
        expired.inc({ topic }, removed.length);
        logger.info({ topic, removed: removed.length, retentionMs }, 'claim check: expired blobs removed');
      }
      return removed.length;
    } catch (error) {
      failed.inc({ topic });
      logger.error({ err: error, topic }, 'claim check: sweeping expired blobs failed');
      return 0;
    }
  };
  let sweeping: Promise<number> | undefined;
  const sweep = (): Promise<number> => {
    // One sweep at a time: a slow folder does not pile them up.
    sweeping ??= (async () => {
      let removed = 0;
      for (const topic of catalog.topics) {
        if (topic.retentionMs !== undefined) removed += await sweepTopic(topic.name, topic.retentionMs);
      }
      return removed;
    })().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    store,
    encoder: createClaimCheckEncoder({
      store,
      thresholdBytes: config.claimCheckBytes,
      topicOf: (event) => catalog.route(event.type).topic.name,
    }),
    middleware: claimCheckData(store),
    sweep,
    start: () => {
      timer ??= setInterval(() => void sweep(), config.blobSweepIntervalMs).unref();
    },
    close: () => {
      if (timer !== undefined) clearInterval(timer);
      store.close();
    },
  };
}
