import type { CloudEvent } from '../events/cloud-event.ts';
import { type CreateEventOptions, createEvent, validateEventData } from '../events/create-event.ts';
import type { EventDefinition } from '../events/define-event.ts';
import {
  CORE_ATTRIBUTES,
  checkSuppliedAttributes,
  isAttributeName,
  parseCloudEvent,
} from '../events/envelope.ts';
import { ValidationError, type ValidationIssue } from '../events/errors.ts';
import { toRecord } from '../events/kafka-binding.ts';
import { defaultLogger } from '../observability/logger.ts';
import { activeTraceparent } from '../observability/tracing.ts';
import { UnknownTopicError } from '../transport/errors.ts';
import { atBatchIndex, EventTooLargeError } from './errors.ts';
import { inheritedEnvelope } from './handling-context.ts';
import { partitionForKey } from './partitioner.ts';
import { createBufferFlusher } from './publishing/buffer-flusher.ts';
import { PublisherClosedError } from './publishing/errors.ts';
import { createLingerBatcher, type LingerBatcher, lingerOptionsSchema } from './publishing/linger-batcher.ts';
import { type LocalBufferOptions, openLocalBuffer } from './publishing/local-buffer.ts';
import { appendPlaced, encodedSize, type PlacedEvent } from './publishing/placed-event.ts';
import {
  breakerOptionsSchema,
  createPublishPolicy,
  isRetryablePublishError,
  parseOptions,
  retryOptionsSchema,
} from './publishing/publish-policy.ts';
import {
  createReplyListener,
  DEFAULT_REPLY_TOPIC,
  DEFAULT_REQUEST_TIMEOUT_MS,
  REPLY_TO_EXTENSION,
  type TypedRequestOptions,
} from './publishing/request-reply.ts';
import { createSendPipeline, type SendMode } from './publishing/send-pipeline.ts';
import { runTransaction } from './publishing/transaction.ts';
import type {
  AnyPublishReceipt,
  Publisher,
  PublisherOptions,
  PublishOptions,
  PublishReceipt,
  PublishToOptions,
} from './types.ts';

/** Default largest encoded event, in bytes (1 MiB, Kafka's default `max.message.bytes`). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** Default milliseconds `publisher.close()` waits for in-flight publishes and the buffer flush. */
export const DEFAULT_PUBLISHER_CLOSE_DEADLINE_MS = 10_000;

// Attribute names an `extensions` option may not take: the core ones and Keel's own.
const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...CORE_ATTRIBUTES,
  'data',
  'data_base64',
  'tenantid',
  'correlationid',
  'causationid',
  'partitionkey',
  'traceparent',
]);

/** Where `build` puts an event: the catalog's topic for its type, or a named one. */
interface Destination {
  topic: string;
  partitions: number;
}

/**
 * Creates a publisher: it validates, fills the envelope (inheriting correlation, causation and tenant
 * inside handlers), picks topic and partition, and appends durably through retries and a circuit
 * breaker; with a `buffer`, publishes the transport cannot take are kept on disk and flushed in order.
 */
export function createPublisher(
  options: PublisherOptions & { buffer: LocalBufferOptions },
): Publisher<AnyPublishReceipt>;
export function createPublisher(options: PublisherOptions & { buffer?: undefined }): Publisher;
export function createPublisher(options: PublisherOptions): Publisher<AnyPublishReceipt>;
export function createPublisher(options: PublisherOptions): Publisher<AnyPublishReceipt> {
  const { transport, catalog, metrics } = options;
  const name = options.name ?? 'publisher';
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const logger = (options.logger ?? defaultLogger()).child({ component: 'publisher', publisher: name });
  const retry = parseOptions(retryOptionsSchema, options.retry, 'retry');
  const breaker = parseOptions(breakerOptionsSchema, options.breaker, 'breaker');
  const linger =
    options.linger === undefined ? undefined : parseOptions(lingerOptionsSchema, options.linger, 'linger');
  const policy = createPublishPolicy({
    name,
    retry,
    breaker,
    isRetryable: options.isRetryable ?? isRetryablePublishError,
    metrics,
    logger,
  });

  let buffer: Parameters<typeof createSendPipeline>[0]['buffer'];
  if (options.buffer !== undefined) {
    const store = openLocalBuffer(options.buffer, { name, metrics });
    const flusher = createBufferFlusher({
      buffer: store,
      transport,
      policy,
      logger,
      onFlushed: (events) => {
        for (const event of events) metrics?.eventPublished.inc({ type: event.type, topic: event.topic });
      },
      onQuarantined: (events, error) => {
        for (const event of events)
          metrics?.publishErrors.inc({ type: event.type, reason: errorCode(error) });
      },
    });
    buffer = { store, flusher };
    // A buffer left on disk by an earlier run goes out first, before anything published now.
    if (store.count() > 0) {
      logger.warn(
        { buffered: store.count(), buffer: store.path },
        'publish buffer holds events from an earlier run',
      );
      flusher.kick();
    }
  }
  const batcher: LingerBatcher<PlacedEvent> | undefined =
    linger === undefined
      ? undefined
      : createLingerBatcher<PlacedEvent>({
          linger,
          append: (items) => policy.once(() => appendPlaced(transport, items)),
          splitOn: (error) => !policy.isRetryable(error) && !policy.isCircuitOpen(error),
        });
  const pipeline = createSendPipeline({ transport, policy, buffer, linger: batcher, logger });
  const replies = createReplyListener({ transport, logger });
  const onError =
    options.onError ??
    ((error: unknown, event: CloudEvent) =>
      logger.error({ err: error, id: event.id, type: event.type }, 'emitted event was not published'));
  let closing: Promise<void> | undefined;

  // Keyless events rotate over partitions, per topic, as Kafka's round-robin partitioner does.
  const nextKeyless = new Map<string, number>();
  const topicSizes = new Map<string, number>();

  const place = (event: CloudEvent, destination: Destination): PlacedEvent => {
    const { topic, partitions } = destination;
    const key = event.partitionkey;
    let partition: number;
    if (key !== undefined) {
      partition = partitionForKey(key, partitions);
    } else {
      partition = nextKeyless.get(topic) ?? 0;
      nextKeyless.set(topic, (partition + 1) % partitions);
    }
    // Every event reaching here was checked by createEvent, validateEventData or parseCloudEvent.
    const record = toRecord(event, { validated: true });
    const size = encodedSize(record);
    if (size > maxEventBytes) throw new EventTooLargeError(event.id, event.type, size, maxEventBytes);
    return { event, topic, partition, record, size };
  };

  const routed = (type: string): Destination => {
    const { topic } = catalog.route(type);
    return { topic: topic.name, partitions: topic.partitions };
  };

  // Envelope of a new event: the caller's options first, then what the handled event passes on.
  const envelope = (publishOptions: PublishOptions): CreateEventOptions => {
    const inherited = inheritedEnvelope();
    const { extensions: _, ...own } = publishOptions as PublishToOptions;
    return {
      ...own,
      source: own.source ?? options.source,
      correlationId: own.correlationId ?? inherited.correlationId,
      causationId: own.causationId ?? inherited.causationId,
      tenantId: own.tenantId ?? inherited.tenantId,
      // The active span (a handler's processing span, or the caller's) continues in the consumers.
      traceparent: own.traceparent ?? activeTraceparent(),
    };
  };

  const build = (
    definition: EventDefinition,
    data: unknown,
    publishOptions: PublishOptions,
    destination?: Destination,
    extensions?: Readonly<Record<string, string>>,
  ): PlacedEvent => {
    let event: CloudEvent = createEvent(definition, data as never, envelope(publishOptions));
    if (extensions !== undefined) event = withExtensions(event, extensions);
    return place(event, destination ?? routed(definition.type));
  };

  const buildMany = (
    definition: EventDefinition,
    data: readonly unknown[],
    publishOptions: Omit<PublishOptions, 'id'>,
  ): PlacedEvent[] => {
    // Options typed without `id` may still carry one at run time; one id for many events would collide.
    const { id: _, ...shared } = publishOptions as PublishOptions;
    return data.map((item, index) => {
      try {
        return build(definition, item, shared);
      } catch (error) {
        throw data.length > 1 ? inBatch(error, index) : error;
      }
    });
  };

  const rejected = (error: unknown, type: string): never => {
    metrics?.publishErrors.inc({ type, reason: errorCode(error) });
    throw error;
  };

  const ensureOpen = (operation: string) => {
    if (closing !== undefined) throw new PublisherClosedError(operation);
  };

  const send = async (placed: readonly PlacedEvent[], mode: SendMode): Promise<AnyPublishReceipt[]> => {
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

  const topicPartitions = async (topic: string): Promise<number> => {
    let partitions = topicSizes.get(topic);
    if (partitions === undefined) {
      const config = await transport.describeTopic(topic);
      if (config === undefined) throw new UnknownTopicError(topic);
      partitions = config.partitions;
      topicSizes.set(topic, partitions);
    }
    return partitions;
  };

  const publisher: Publisher<AnyPublishReceipt> = {
    async publish(definition, data, publishOptions = {}) {
      let placed: PlacedEvent;
      try {
        placed = build(definition, data, publishOptions);
      } catch (error) {
        return rejected(error, definition.type);
      }
      const [receipt] = await send([placed], 'shared');
      return receipt!;
    },

    async publishMany(definition, data, publishOptions = {}) {
      let placed: PlacedEvent[];
      try {
        placed = buildMany(definition, data, publishOptions);
      } catch (error) {
        return rejected(error, definition.type);
      }
      return placed.length === 0 ? [] : send(placed, 'shared');
    },

    async publishEvents(events) {
      const placed = events.map((input, index) => {
        try {
          const entry = catalog.route(input.type);
          const { definition } = entry;
          let event = definition ? validateEventData(definition, input) : parseCloudEvent(input);
          // An event posted without a key gets the one its definition picks, so HTTP ingestion keeps per-key order too.
          const key = event.partitionkey ?? definition?.partitionKey?.(event.data as never);
          if (key !== undefined && event.partitionkey === undefined) event = { ...event, partitionkey: key };
          return place(event, { topic: entry.topic.name, partitions: entry.topic.partitions });
        } catch (error) {
          return rejected(events.length > 1 ? inBatch(error, index) : error, input.type);
        }
      });
      return placed.length === 0 ? [] : send(placed, 'shared');
    },

    emit(definition, data, publishOptions = {}) {
      let placed: PlacedEvent;
      try {
        ensureOpen('emit');
        placed = build(definition, data, publishOptions);
      } catch (error) {
        rejected(error, definition.type);
        return;
      }
      send([placed], 'shared').catch((error: unknown) => {
        try {
          onError(error, placed.event);
        } catch (thrown) {
          logger.error({ err: thrown, cause: error, id: placed.event.id }, 'onError threw');
        }
      });
    },

    async publishTo(topic, definition, data, publishOptions = {}) {
      let placed: PlacedEvent;
      try {
        const partitions = await topicPartitions(topic);
        placed = build(definition, data, publishOptions, { topic, partitions }, publishOptions.extensions);
      } catch (error) {
        return rejected(error, definition.type);
      }
      const [receipt] = await send([placed], 'shared');
      return receipt!;
    },

    async request(
      definition: EventDefinition,
      data: unknown,
      requestOptions: Partial<TypedRequestOptions<EventDefinition>> = {},
    ): Promise<CloudEvent<never>> {
      const {
        timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
        replyTopic = DEFAULT_REPLY_TOPIC,
        reply: replyDefinition,
        ...publishOptions
      } = requestOptions;
      let placed: PlacedEvent;
      try {
        ensureOpen('request');
        placed = build(definition, data, publishOptions, undefined, { [REPLY_TO_EXTENSION]: replyTopic });
      } catch (error) {
        return rejected(error, definition.type);
      }
      // Waiting starts before the request goes out: a fast reply must find its requester.
      const pending = replies.expect(placed.event.id, definition.type, replyTopic, timeoutMs);
      try {
        await Promise.race([replies.ready(replyTopic), pending.reply]);
        await send([placed], 'shared');
      } catch (error) {
        pending.cancel(error);
        throw error;
      }
      const reply = await pending.reply;
      return (replyDefinition ? validateEventData(replyDefinition, reply) : reply) as CloudEvent<never>;
    },

    async transaction(work) {
      ensureOpen('transaction');
      return runTransaction(
        {
          build: (definition, data, publishOptions) => build(definition, data, publishOptions),
          buildMany,
          // One append of its own, never shared through lingering with publishes outside the transaction.
          commit: (placed) => send(placed, 'atomic'),
        },
        work,
      );
    },

    close(deadlineMs = DEFAULT_PUBLISHER_CLOSE_DEADLINE_MS) {
      closing ??= (async () => {
        await Promise.all([pipeline.close(deadlineMs), replies.close()]);
        policy.dispose();
      })();
      return closing;
    },

    [Symbol.asyncDispose]: () => publisher.close(),
  };
  return publisher;
}

/** Adds extension attributes to a created event, refusing invalid or reserved names and bad values. */
function withExtensions(event: CloudEvent, extensions: Readonly<Record<string, string>>): CloudEvent {
  const issues: ValidationIssue[] = [];
  for (const name of Object.keys(extensions)) {
    if (!isAttributeName(name) || RESERVED_ATTRIBUTES.has(name)) {
      issues.push({
        path: `extensions.${name}`,
        rule: 'invalid_name',
        message: 'must be lower-case letters and digits, and not a core or Keel attribute',
      });
    }
  }
  issues.push(...checkSuppliedAttributes(extensions));
  if (issues.length > 0) throw new ValidationError(`invalid ${event.type} event`, issues, event.type);
  return { ...event, ...extensions };
}

function inBatch(error: unknown, index: number): unknown {
  if (error instanceof ValidationError) {
    const issues = error.issues.map((issue) => ({
      ...issue,
      path: `[${index}]${issue.path ? `.${issue.path}` : ''}`,
    }));
    return atBatchIndex(new ValidationError(`event [${index}] is invalid`, issues, error.eventType), index);
  }
  return error instanceof Error ? atBatchIndex(error, index) : error;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown';
}
