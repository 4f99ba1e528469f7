import type { CloudEvent } from '../events/cloud-event.ts';
import { validateEventData } from '../events/create-event.ts';
import type { EventDefinition } from '../events/define-event.ts';
import { defaultLogger } from '../observability/logger.ts';
import { guardPublisher } from './guarded-publisher.ts';
import type {
  AnyPublishReceipt,
  EventSealer,
  Publisher,
  PublisherOptions,
  PublishOptions,
  TypedRequestOptions,
} from './publisher-port.ts';
import { createDelivery } from './publishing/delivery.ts';
import { PublisherClosedError } from './publishing/errors.ts';
import { createEventBuilder, type EventBuilder } from './publishing/event-builder.ts';
import { createEventPlacer, type EventPlacer } from './publishing/event-placer.ts';
import type { LocalBufferOptions } from './publishing/local-buffer.ts';
import type { PlacedEvent } from './publishing/placed-event.ts';
import { parseOptions, publisherSettingsSchema } from './publishing/publish-policy.ts';
import { createReceiptSender, errorCode, type ReceiptSender } from './publishing/receipts.ts';
import {
  createReplyListener,
  DEFAULT_REPLY_TOPIC,
  DEFAULT_REQUEST_TIMEOUT_MS,
  REPLY_TO_EXTENSION,
  type ReplyListener,
} from './publishing/request-reply.ts';
import { runTransaction } from './publishing/transaction.ts';

export { DEFAULT_MAX_EVENT_BYTES } from './publishing/publish-policy.ts';
/** Default milliseconds `publisher.close()` waits for in-flight publishes and the buffer flush. */
export const DEFAULT_PUBLISHER_CLOSE_DEADLINE_MS = 10_000;

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
  const { name, maxEventBytes } = parseOptions(
    publisherSettingsSchema,
    { name: options.name, maxEventBytes: options.maxEventBytes },
    'publisher',
  );
  const logger = (options.logger ?? defaultLogger()).child({ component: 'publisher', publisher: name });
  const { policy, pipeline } = createDelivery(options, name, logger);
  const placer = createEventPlacer({
    transport,
    catalog,
    maxEventBytes,
    encodeLater: options.sealer !== undefined || options.encoder !== undefined,
  });
  const builder = createEventBuilder({ catalog, source: options.source, placer });
  const send = sealingSender(
    createReceiptSender(pipeline, metrics),
    chained(options.sealer, options.encoder),
    placer,
  );
  const replies = createReplyListener({ transport, logger });
  const onError =
    options.onError ??
    ((error: unknown, event: CloudEvent) =>
      logger.error({ err: error, id: event.id, type: event.type }, 'emitted event was not published'));
  let closing: Promise<void> | undefined;

  const rejected = (error: unknown, type: string): never => {
    metrics?.publishErrors.inc({ type, reason: errorCode(error) });
    throw error;
  };

  const ensureOpen = (operation: string) => {
    if (closing !== undefined) throw new PublisherClosedError(operation);
  };

  const admitted = async (events: readonly CloudEvent[], decoded: boolean) => {
    const placed = builder.admit(events, decoded, rejected);
    return placed.length === 0 ? [] : send(placed, 'shared');
  };

  const publisher: Publisher<AnyPublishReceipt> = {
    async publish(definition, data, publishOptions = {}) {
      let placed: PlacedEvent;
      try {
        placed = builder.build(definition, data, publishOptions);
      } catch (error) {
        return rejected(error, definition.type);
      }
      const [receipt] = await send([placed], 'shared');
      return receipt!;
    },

    async publishMany(definition, data, publishOptions = {}) {
      let placed: PlacedEvent[];
      try {
        placed = builder.buildMany(definition, data, publishOptions);
      } catch (error) {
        return rejected(error, definition.type);
      }
      return placed.length === 0 ? [] : send(placed, 'shared');
    },

    publishEvents: (events) => admitted(events, false),

    publishDecoded: (events) => admitted(events, true),

    emit(definition, data, publishOptions = {}) {
      let placed: PlacedEvent;
      try {
        ensureOpen('emit');
        placed = builder.build(definition, data, publishOptions);
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
        const destination = await placer.named(topic);
        placed = builder.build(definition, data, publishOptions, destination, publishOptions.extensions);
      } catch (error) {
        return rejected(error, definition.type);
      }
      const [receipt] = await send([placed], 'shared');
      return receipt!;
    },

    request: (definition: EventDefinition, data: unknown, requestOptions = {}) =>
      sendRequest({ builder, replies, send, rejected, ensureOpen }, definition, data, requestOptions),

    async transaction(work) {
      ensureOpen('transaction');
      return runTransaction(
        {
          build: (definition, data, publishOptions) => builder.build(definition, data, publishOptions),
          buildMany: builder.buildMany,
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
  return options.identity ? guardPublisher(publisher, options.identity, catalog) : publisher;
}

/** Both rewriters one after the other (the sealer first: it reads the data as JSON), or the one given. */
function chained(first: EventSealer | undefined, second: EventSealer | undefined): EventSealer | undefined {
  if (first === undefined || second === undefined) return first ?? second;
  return async (events) => second(await first(events));
}

/** The sender, with each batch of placed events rewritten by the sealer first (when there is one). */
function sealingSender(
  send: ReceiptSender,
  sealer: EventSealer | undefined,
  placer: EventPlacer,
): ReceiptSender {
  if (sealer === undefined) return send;
  return async (placed, mode) => {
    const sealed = await sealer(placed.map((item) => item.event));
    return send(
      placed.map((item, index) => placer.replaced(item, sealed[index]!)),
      mode,
    );
  };
}

/** What a request needs of its publisher. */
interface RequestContext {
  builder: EventBuilder;
  replies: ReplyListener;
  send: ReceiptSender;
  rejected: (error: unknown, type: string) => never;
  ensureOpen: (operation: string) => void;
}

/** Publishes a request (extension `replyto`) and resolves with its reply, checked against `reply` when given. */
async function sendRequest(
  context: RequestContext,
  definition: EventDefinition,
  data: unknown,
  requestOptions: Partial<TypedRequestOptions<EventDefinition>>,
): Promise<CloudEvent<never>> {
  const { builder, replies, send, rejected, ensureOpen } = context;
  const {
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    replyTopic = DEFAULT_REPLY_TOPIC,
    reply: replyDefinition,
    ...publishOptions
  } = requestOptions;
  let placed: PlacedEvent;
  try {
    ensureOpen('request');
    placed = builder.build(definition, data, publishOptions as PublishOptions, undefined, {
      [REPLY_TO_EXTENSION]: replyTopic,
    });
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
}
