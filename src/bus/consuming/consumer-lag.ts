import type { Logger } from 'pino';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { Transport } from '../../transport/transport.ts';

/** What the lag updates need. */
export interface LagUpdatesOptions {
  transport: Transport;
  group: string;
  /** Topics the group consumes. */
  topics: readonly string[];
  metrics: KeelMetrics;
  /** Milliseconds between updates. */
  intervalMs: number;
  logger: Logger;
}

/** Updates `keel_consumer_lag_messages` of a group per partition every `intervalMs`; returns how to stop. */
export function startLagUpdates(options: LagUpdatesOptions): () => void {
  const { transport, group, metrics, logger } = options;
  const update = async () => {
    try {
      for (const lag of await transport.groupLag(group, [...options.topics])) {
        metrics.consumerLag.set(
          { group, topic: lag.topic, partition: String(lag.partition) },
          Number(lag.lag),
        );
      }
    } catch (error) {
      logger.warn({ err: error }, 'cannot read consumer lag');
    }
  };
  const timer = setInterval(() => void update(), options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
