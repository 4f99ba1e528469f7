import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { EventData, EventDefinition } from '../../events/define-event.ts';
import { defineEvent } from '../../events/define-event.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import type { Consumer, StoredRecord, Transport } from '../../transport/transport.ts';
import type { AnyPublishReceipt, Publisher, PublishOptions } from '../publisher-port.ts';
import { NotARequestError, PublisherClosedError, RemoteError, RequestTimeoutError } from './errors.ts';

/** Default topic replies go to. */
export const DEFAULT_REPLY_TOPIC = 'keel.replies';
/** Partitions of a reply topic Keel creates (replies are keyed by request id, so they spread). */
export const REPLY_TOPIC_PARTITIONS = 12;
/** Default milliseconds a request waits for its reply. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Extension naming the topic the reply goes to; set on requests. */
export const REPLY_TO_EXTENSION = 'replyto';
/**
 * Extension carrying the id of the request a reply answers. A dedicated attribute rather than
 * `correlationid`, which keeps the business correlation across the whole conversation.
 */
export const IN_REPLY_TO_EXTENSION = 'inreplyto';

/** An error reply: the responder could not serve the request. Rejects the request with a RemoteError. */
export const ReplyErrorEvent = defineEvent({
  type: 'keel.reply.error',
  version: 1,
  description: 'A responder could not serve a request: the error it raised.',
  schema: z.object({
    /** `name` of the error raised, e.g. `ValidationError`. */
    name: z.string().min(1),
    message: z.string(),
    /** `code` of the error raised, when it had a string one. */
    code: z.string().min(1).optional(),
  }),
});

/** A request waiting for its reply. */
export interface PendingReply {
  /** Resolves with the reply event, or rejects (RemoteError, RequestTimeoutError, PublisherClosedError). */
  readonly reply: Promise<CloudEvent>;
  /** Stops waiting, rejecting `reply` with `error`. */
  cancel(error: unknown): void;
}

/**
 * The requester's side: one consumer per reply topic, in a consumer group of its own (so every reply
 * reaches this requester), reading from the end, created on the first request and matching replies
 * to waiting requests by their `inreplyto` extension.
 */
export interface ReplyListener {
  /** Resolves once a consumer of `topic` holds every partition and reads from its end. */
  ready(topic: string): Promise<void>;
  /** Starts waiting for the reply to request `requestId`, for `timeoutMs` milliseconds from now. */
  expect(requestId: string, requestType: string, topic: string, timeoutMs: number): PendingReply;
  /** Stops the consumers (their groups are left) and rejects waiting requests with PublisherClosedError. */
  close(): Promise<void>;
}

interface Waiting {
  requestType: string;
  /** Reply topic the request named. */
  topic: string;
  resolve: (event: CloudEvent) => void;
  reject: (error: unknown) => void;
}

interface Listening {
  /** Set once the topic exists and the consumer is created. */
  consumer: Consumer | undefined;
  ready: Promise<void>;
  loop: Promise<void>;
}

/** Creates the reply listener of one publisher. */
export function createReplyListener(options: { transport: Transport; logger: Logger }): ReplyListener {
  const { transport, logger } = options;
  const waiting = new Map<string, Waiting>();
  const listening = new Map<string, Listening>();
  let closed = false;

  const deliver = (record: StoredRecord) => {
    const requestId = record.headers[`ce_${IN_REPLY_TO_EXTENSION}`];
    if (requestId === undefined) return;
    const waiter = waiting.get(requestId);
    // Replies to other requesters on the same topic, or to requests that timed out, are not ours.
    if (waiter === undefined) return;
    let event: CloudEvent;
    try {
      event = fromRecord(record);
    } catch (error) {
      waiting.delete(requestId);
      return waiter.reject(error);
    }
    waiting.delete(requestId);
    if (event.type !== ReplyErrorEvent.type) return waiter.resolve(event);
    const parsed = ReplyErrorEvent.schema.safeParse(event.data);
    const remote = parsed.success ? parsed.data : { name: 'Error', message: JSON.stringify(event.data) };
    waiter.reject(new RemoteError(remote, requestId, waiter.requestType, event));
  };

  const listen = (topic: string): Listening => {
    const found = listening.get(topic);
    if (found !== undefined) return found;
    const group = `keel.requester.${randomUUID()}`;
    let markReady: () => void = () => {};
    let failReady: (error: unknown) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // Rejections surface through the requests that wait for `ready`.
    ready.catch(() => {});
    const held = new Set<number>();
    let partitions = Number.POSITIVE_INFINITY;
    const entry: Listening = { consumer: undefined, ready, loop: Promise.resolve() };
    entry.loop = (async () => {
      let consumer: Consumer;
      try {
        await transport.ensureTopics([{ name: topic, partitions: REPLY_TOPIC_PARTITIONS }]);
        partitions = (await transport.describeTopic(topic))?.partitions ?? REPLY_TOPIC_PARTITIONS;
        consumer = transport.consumer({
          group,
          topics: [topic],
          startFrom: 'latest',
          onPartitionsAssigned: async (assigned) => {
            for (const tp of assigned) held.add(tp.partition);
          },
          onPartitionsRevoked: async (revoked) => {
            for (const tp of revoked) held.delete(tp.partition);
          },
        });
        entry.consumer = consumer;
      } catch (error) {
        failReady(error);
        listening.delete(topic);
        return;
      }
      while (!closed) {
        let records: StoredRecord[];
        try {
          records = await consumer.poll(100);
        } catch (error) {
          if (closed) break;
          if ((error as { code?: unknown }).code === 'KEEL_TRANSPORT_CLOSED') {
            // The transport went away under the publisher: requests on this topic can no longer be answered.
            listening.delete(topic);
            failReady(error);
            for (const waiter of [...waiting.values()]) if (waiter.topic === topic) waiter.reject(error);
            break;
          }
          logger.warn({ err: error, topic, group }, 'reply listener: poll failed; retrying in 500 ms');
          await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        // Positions of a new assignment are fixed (at the end) before its poll returns: from here on
        // no reply can slip past, so requests may go out.
        if (held.size >= partitions) markReady();
        for (const record of records) deliver(record);
      }
    })();
    listening.set(topic, entry);
    logger.debug({ topic, group }, 'reply listener: joining');
    return entry;
  };

  return {
    ready: (topic) => {
      if (closed) return Promise.reject(new PublisherClosedError('request'));
      return listen(topic).ready;
    },

    expect: (requestId, requestType, topic, timeoutMs) => {
      let settle: { resolve: (event: CloudEvent) => void; reject: (error: unknown) => void } | undefined;
      const reply = new Promise<CloudEvent>((resolve, reject) => {
        settle = { resolve, reject };
      });
      // A request that failed before waiting (its publish refused) cancels this; nobody awaits it then.
      reply.catch(() => {});
      const timer = setTimeout(() => {
        waiting.delete(requestId);
        settle!.reject(new RequestTimeoutError(requestId, requestType, topic, timeoutMs));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiting.delete(requestId);
      };
      waiting.set(requestId, {
        requestType,
        topic,
        resolve: (event) => {
          done();
          settle!.resolve(event);
        },
        reject: (error) => {
          done();
          settle!.reject(error);
        },
      });
      return {
        reply,
        cancel: (error) => waiting.get(requestId)?.reject(error),
      };
    },

    close: async () => {
      if (closed) return;
      closed = true;
      for (const waiter of [...waiting.values()]) waiter.reject(new PublisherClosedError('request'));
      const entries = [...listening.values()];
      listening.clear();
      await Promise.allSettled(entries.map((entry) => entry.loop));
      await Promise.allSettled(entries.map((entry) => entry.consumer?.close()));
    },
  };
}

/** Answers requests: publishes replies to the topic a request names, keyed and tagged by its id. */
export interface Replier<Receipt extends AnyPublishReceipt = AnyPublishReceipt> {
  /**
   * Replies to `request` with a typed event on its `replyto` topic: extension `inreplyto` = the request id,
   * partition key = the request id, `correlationid` = the request's (or its id), `causationid` = its id,
   * its tenant. Throws NotARequestError when the event has no `replyto`.
   */
  reply<Definition extends EventDefinition>(
    request: CloudEvent,
    definition: Definition,
    data: EventData<Definition>,
    options?: PublishOptions,
  ): Promise<Receipt>;
  /** Replies with a `keel.reply.error` event carrying the error's name, message and code: the requester gets a RemoteError. */
  replyError(request: CloudEvent, error: unknown): Promise<Receipt>;
}

/** Creates a replier that publishes through `publisher`. */
export function createReplier<Receipt extends AnyPublishReceipt>(options: {
  publisher: Publisher<Receipt>;
}): Replier<Receipt> {
  const { publisher } = options;
  const answer = <Definition extends EventDefinition>(
    request: CloudEvent,
    definition: Definition,
    data: EventData<Definition>,
    publishOptions: PublishOptions = {},
  ): Promise<Receipt> => {
    const topic = request[REPLY_TO_EXTENSION];
    if (typeof topic !== 'string' || topic === '') return Promise.reject(new NotARequestError(request));
    return publisher.publishTo(topic, definition, data, {
      correlationId: request.correlationid ?? request.id,
      causationId: request.id,
      ...(request.tenantid === undefined ? {} : { tenantId: request.tenantid }),
      ...publishOptions,
      // Keyed by the request id: every reply to one request lands in one partition, in order.
      partitionKey: request.id,
      extensions: { [IN_REPLY_TO_EXTENSION]: request.id },
    });
  };
  return {
    reply: answer,
    replyError: (request, error) => {
      const code = (error as { code?: unknown } | null | undefined)?.code;
      return answer(request, ReplyErrorEvent, {
        name: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
        ...(typeof code === 'string' && code !== '' ? { code } : {}),
      });
    },
  };
}
