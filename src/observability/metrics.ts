import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { flushBatches } from './metric-batches.ts';

/** Keel's Prometheus metrics, all prefixed `keel_`, in one registry. */
export interface KeelMetrics {
  readonly registry: Registry;
  /** Events appended to the transport, by type and topic. */
  readonly eventPublished: Counter<'type' | 'topic'>;
  /** Seconds from publish call to durable acknowledgement, by topic. */
  readonly publishDuration: Histogram<'topic'>;
  /** Publishes that failed, by type and error code. */
  readonly publishErrors: Counter<'type' | 'reason'>;
  /** Events handed to a handler and committed, by group, type and outcome. */
  readonly eventConsumed: Counter<'group' | 'type' | 'outcome'>;
  /** Seconds a handler took, by group and type. */
  readonly processingDuration: Histogram<'group' | 'type'>;
  /** State of each circuit breaker: 0 closed, 1 open, 2 half-open. */
  readonly circuitBreakerState: Gauge<'name'>;
  /** Events waiting in a publisher's local durable buffer for the transport to come back, by publisher name. */
  readonly publishBufferEvents: Gauge<'name'>;
  /** Events sent to a dead-letter queue, by group, type and error type. */
  readonly dlqMessages: Counter<'group' | 'type' | 'error'>;
  /** Dead-letter entries sent back to their source topic, by group. */
  readonly dlqRetries: Counter<'group'>;
  /** Records between a group's committed offset and the end of each partition. */
  readonly consumerLag: Gauge<'group' | 'topic' | 'partition'>;
  /** Keys of a group whose events wait behind an earlier failed event (ordered retries per key). */
  readonly parkedKeys: Gauge<'group'>;
  /** Events of a group waiting behind an earlier failed event of their key (the failed ones not counted). */
  readonly parkedEvents: Gauge<'group'>;
  /** Seconds since the oldest parked key of a group began waiting. */
  readonly parkedOldestAge: Gauge<'group'>;
}

/** Options of the metrics registry. */
export interface MetricsOptions {
  /** Also collect Node process metrics (CPU, memory, event loop lag); default false. */
  processMetrics?: boolean;
}

/** Creates Keel's metrics in a fresh registry (one per node, so tests do not share counters). */
export function createMetrics(options: MetricsOptions = {}): KeelMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectProcessMetrics(registry);
  const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  return {
    registry,
    eventPublished: new Counter({
      name: 'keel_event_published_total',
      help: 'Events durably appended to the transport.',
      labelNames: ['type', 'topic'],
      registers: [registry],
    }),
    publishDuration: new Histogram({
      name: 'keel_event_publish_duration_seconds',
      help: 'Seconds from a publish call to its durable acknowledgement.',
      labelNames: ['topic'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    publishErrors: new Counter({
      name: 'keel_event_publish_errors_total',
      help: 'Publish calls that failed.',
      labelNames: ['type', 'reason'],
      registers: [registry],
    }),
    eventConsumed: new Counter({
      name: 'keel_event_consumed_total',
      help: 'Events handled by a consumer group.',
      labelNames: ['group', 'type', 'outcome'],
      registers: [registry],
      // Counted once per handled event: the router's children batch and fold in on every read.
      collect: flushBatches,
    }),
    processingDuration: new Histogram({
      name: 'keel_event_processing_duration_seconds',
      help: 'Seconds a handler took for one event.',
      labelNames: ['group', 'type'],
      buckets: latencyBuckets,
      registers: [registry],
      collect: flushBatches,
    }),
    circuitBreakerState: new Gauge({
      name: 'keel_circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 open, 2 half-open.',
      labelNames: ['name'],
      registers: [registry],
    }),
    publishBufferEvents: new Gauge({
      name: 'keel_publish_buffer_events',
      help: "Events in a publisher's local durable buffer, not yet on the transport.",
      labelNames: ['name'],
      registers: [registry],
    }),
    dlqMessages: new Counter({
      name: 'keel_dlq_messages_total',
      help: 'Events sent to a dead-letter queue.',
      labelNames: ['group', 'type', 'error'],
      registers: [registry],
    }),
    dlqRetries: new Counter({
      name: 'keel_dlq_retries_total',
      help: 'Dead-letter entries republished to their source topic.',
      labelNames: ['group'],
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'keel_consumer_lag_messages',
      help: 'Records between the committed offset of a group and the end of a partition.',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    }),
    parkedKeys: new Gauge({
      name: 'keel_parked_keys',
      help: 'Keys whose later events wait behind an earlier failed event of the key.',
      labelNames: ['group'],
      registers: [registry],
    }),
    parkedEvents: new Gauge({
      name: 'keel_parked_events',
      help: 'Events waiting behind an earlier failed event of their key.',
      labelNames: ['group'],
      registers: [registry],
    }),
    parkedOldestAge: new Gauge({
      name: 'keel_parked_oldest_age_seconds',
      help: 'Seconds since the oldest parked key of the group began waiting.',
      labelNames: ['group'],
      registers: [registry],
    }),
  };
}

/**
 * prom-client's default process metrics, less the three totals of active handles, requests and resources: gauges
 * named `*_total` (a suffix Prometheus keeps for counters, so `promtool check metrics` refuses them), whose values
 * the same set already exports by type as `keel_nodejs_active_{handles,requests,resources}`.
 */
function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: 'keel_' });
  for (const name of ['handles', 'requests', 'resources']) {
    registry.removeSingleMetric(`keel_nodejs_active_${name}_total`);
  }
}
