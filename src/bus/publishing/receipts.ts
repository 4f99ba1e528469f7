import type { KeelMetrics } from '../../observability/metrics.ts';
import type { AnyPublishReceipt, PublishReceipt } from '../publisher-port.ts';
import type { PlacedEvent } from './placed-event.ts';
import type { SendMode, SendPipeline } from './send-pipeline.ts';

/** Sends placed events through the pipeline and answers one receipt per event, counting them in metrics. */
export type ReceiptSender = (placed: readonly PlacedEvent[], mode: SendMode) => Promise<AnyPublishReceipt[]>;

/** The `code` of an error as a metrics label: its string code, else `unknown`. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown';
}

/** Creates the receipt sender of one publisher. */
export function createReceiptSender(pipeline: SendPipeline, metrics: KeelMetrics | undefined): ReceiptSender {
  return async (placed, mode) => {
    const started = performance.now();
    let outcome: Awaited<ReturnType<typeof pipeline.send>>;
    try {
      outcome = await pipeline.send(placed, mode);
    } catch (error) {
      for (const item of placed)
        metrics?.publishErrors.inc({ type: item.event.type, reason: errorCode(error) });
      throw error;
    }
    if (outcome.buffered) {
      return placed.map((item) => ({
        id: item.event.id,
        type: item.event.type,
        topic: item.topic,
        partition: item.partition,
        buffered: true,
      }));
    }
    const { offsets } = outcome;
    if (metrics) {
      const seconds = (performance.now() - started) / 1000;
      for (const item of placed) {
        metrics.eventPublished.inc({ type: item.event.type, topic: item.topic });
        metrics.publishDuration.observe({ topic: item.topic }, seconds);
      }
    }
    return placed.map(
      (item, index): PublishReceipt => ({
        id: item.event.id,
        type: item.event.type,
        topic: item.topic,
        partition: item.partition,
        offset: offsets[index]!,
      }),
    );
  };
}
