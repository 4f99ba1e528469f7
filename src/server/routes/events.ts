import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertMayPublish, outgoingOf } from '../../bus/guarded-publisher.ts';
import type { DecodedCloudEvent, Publisher } from '../../bus/publisher-port.ts';
import type { Catalog } from '../../events/catalog.ts';
import { type HttpMode, readHttp } from '../../events/http-binding.ts';
import { inServerSpan } from '../../observability/tracing.ts';
import { assertJsonDepth } from '../api/json-depth.ts';
import { IdempotencyConflictError, idempotencyConflictProblem } from '../idempotency/idempotency-conflict.ts';
import type { EventReceipt, IdempotentPublish } from '../idempotency/idempotent-publish.ts';
import { problem, problemFromError, sendProblem } from '../problem.ts';

/** What the ingestion route needs. */
export interface EventsRouteOptions {
  publisher: Publisher;
  /** Routes each type to its topic, to check the identity's topic scope. */
  catalog: Catalog;
  /** Publishes at most once per (source, id) within a window; without it every request appends. */
  idempotent?: IdempotentPublish | undefined;
}

/** Header set on an answer whose every event had been stored by an earlier request. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** Registers `POST /v1/events`: one event or a batch, in structured, batch or binary mode; 201 with where each was stored. */
export function registerEventsRoute(app: FastifyInstance, options: EventsRouteOptions): void {
  const { publisher } = options;
  const publish: IdempotentPublish =
    options.idempotent ?? (async (events) => (await publisher.publishDecoded(events)).map(receiptOf));

  app.post('/v1/events', (request, reply) =>
    inServerSpan(
      { method: 'POST', route: '/v1/events', traceparent: single(request.headers.traceparent) },
      () => handle(request, reply),
      () => reply.statusCode,
    ),
  );

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let mode: HttpMode | undefined;
    let events: DecodedCloudEvent[] | undefined;
    try {
      const repeated = repeatedEventHeader(request.raw.rawHeaders);
      if (repeated !== undefined) {
        return sendProblem(
          reply,
          problem(
            'repeated-header',
            400,
            'Repeated header',
            `the header ${repeated} is given more than once`,
            {
              errors: [
                {
                  path: `headers.${repeated}`,
                  rule: 'once',
                  message: 'a CloudEvents attribute has one value',
                },
              ],
            },
          ),
        );
      }
      // The headers are read once, and each event's envelope checked once: the publisher checks only the data.
      const reading = readHttp(request.headers, body);
      mode = reading.mode;
      if (mode === undefined) return unsupportedMediaType(reply, request.headers['content-type']);
      events = reading.events() as DecodedCloudEvent[];
      events.forEach((event, index) => {
        assertJsonDepth(event.data, mode === 'batch' ? `[${index}].data` : 'data');
      });
      if (request.identity) assertMayPublish(request.identity, options.catalog, outgoingOf(events));
      const receipts = await publish(events);
      // A replay answers as the first attempt did (201, same receipts): a client that cannot tell whether
      // its first attempt arrived handles both alike; the header and `replayed` tell them apart.
      if (receipts.every((receipt) => receipt.replayed)) reply.header(REPLAYED_HEADER, 'true');
      return reply.code(201).send({ events: receipts });
    } catch (error) {
      if (error instanceof IdempotencyConflictError) {
        request.log.info({ conflicts: error.conflicts }, 'events rejected: id reused');
        return sendProblem(reply, idempotencyConflictProblem(error, mode === 'batch'));
      }
      const answer = problemFromError(error, {
        batch: mode === 'batch',
        types: events?.map((event) => event.type),
      });
      if (!answer) throw error;
      request.log.info({ problem: answer.type, detail: answer.detail }, 'events rejected');
      return sendProblem(reply, answer);
    }
  };
}

/** A header sent once, or undefined (a repeated `traceparent` names no single parent). */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A receipt as the route answers it (offset as digits). */
function receiptOf(receipt: Awaited<ReturnType<Publisher['publishDecoded']>>[number]): EventReceipt {
  return {
    id: receipt.id,
    type: receipt.type,
    topic: receipt.topic,
    partition: receipt.partition,
    offset: receipt.offset.toString(),
  };
}

/** Answers 415 for a request that carries CloudEvents in no mode of the binding. */
function unsupportedMediaType(reply: FastifyReply, contentType: string | string[] | undefined) {
  return sendProblem(
    reply,
    problem(
      'unsupported-media-type',
      415,
      'Unsupported media type',
      `cannot read events from content type ${JSON.stringify(contentType ?? '(none)')}: ` +
        'send application/cloudevents+json (structured), application/cloudevents-batch+json (batch), ' +
        'the event data with ce-* headers (binary), or an event or array of events as application/json',
    ),
  );
}

/**
 * The first `ce-*` header (or `content-type`) sent more than once: Node joins repeated headers into one
 * value (`a, b`), which would make an id or a type out of two.
 */
function repeatedEventHeader(rawHeaders: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (!name.startsWith('ce-') && name !== 'content-type') continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}
