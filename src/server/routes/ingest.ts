import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertMayPublish, outgoingOf } from '../../bus/guarded-publisher.ts';
import type { DecodedCloudEvent, Publisher } from '../../bus/publisher-port.ts';
import type { Catalog } from '../../events/catalog.ts';
import type {
  IngestAnswer,
  IngestFailure,
  IngestorDefinition,
  IngestReceipt,
} from '../../events/define-ingestor.ts';
import { parseCloudEvent } from '../../events/envelope.ts';
import { inServerSpan } from '../../observability/tracing.ts';
import { IdempotencyConflictError } from '../idempotency/idempotency-conflict.ts';
import type { IdempotentPublish } from '../idempotency/idempotent-publish.ts';
import { problem, problemFromError, sendProblem } from '../problem.ts';

/** What the ingestion route needs. */
export interface IngestRouteOptions {
  publisher: Publisher;
  /** Routes each type to its topic, to check the identity's topic scope. */
  catalog: Catalog;
  /** Publishes at most once per (source, id); without it every request appends. */
  idempotent?: IdempotentPublish | undefined;
  /** The formats taken, by name. */
  ingestors: readonly IngestorDefinition[];
}

/**
 * Registers `POST /v1/ingest/:ingestor`: the named ingestor reads the body into events, which are published
 * all or nothing (at most once per source + id when idempotent publish is on), and the ingestor answers in
 * its own format, refusals and failures included.
 */
export function registerIngestRoute(app: FastifyInstance, options: IngestRouteOptions): void {
  const byName = new Map(options.ingestors.map((ingestor) => [ingestor.name, ingestor]));
  const publish: IdempotentPublish =
    options.idempotent ??
    (async (events) =>
      (await options.publisher.publishDecoded(events)).map((receipt) => ({
        id: receipt.id,
        type: receipt.type,
        topic: receipt.topic,
        partition: receipt.partition,
        offset: receipt.offset.toString(),
      })));

  app.post<{ Params: { ingestor: string } }>('/v1/ingest/:ingestor', (request, reply) =>
    inServerSpan(
      {
        method: 'POST',
        route: '/v1/ingest/:ingestor',
        traceparent:
          typeof request.headers.traceparent === 'string' ? request.headers.traceparent : undefined,
      },
      () => handle(request, reply),
      () => reply.statusCode,
    ),
  );

  const handle = async (request: FastifyRequest<{ Params: { ingestor: string } }>, reply: FastifyReply) => {
    const ingestor = byName.get(request.params.ingestor);
    if (!ingestor) {
      return sendProblem(
        reply,
        problem('not-found', 404, 'No such ingestor', `this node takes no "${request.params.ingestor}"`, {
          errors: [
            { path: 'params.ingestor', rule: 'one_of', message: `one of: ${[...byName.keys()].join(', ')}` },
          ],
        }),
      );
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const contentType = request.headers['content-type'];
    const result = await ingestor.ingest({ body, contentType });
    if (result.kind === 'refused') return send(reply, result.answer);
    let receipts: readonly IngestReceipt[];
    try {
      const events = result.events.map(
        (event, index) => parseCloudEvent(event, `[${index}]`) as DecodedCloudEvent,
      );
      if (request.identity) assertMayPublish(request.identity, options.catalog, outgoingOf(events));
      receipts = events.length === 0 ? [] : await publish(events);
    } catch (error) {
      const failure = failureOf(error, result.events.length);
      if (!failure) throw error;
      request.log.info({ ingestor: ingestor.name, failure }, 'ingested events not published');
      return send(reply, result.fail(failure));
    }
    return send(reply, result.answer(receipts));
  };
}

function send(reply: FastifyReply, answer: IngestAnswer): FastifyReply {
  return reply.code(answer.status).type(answer.contentType).send(answer.body);
}

/** What went wrong in the ingestor's terms, or undefined for a fault of the node (answered 500). */
function failureOf(error: unknown, count: number): IngestFailure | undefined {
  if (error instanceof IdempotencyConflictError) {
    const first = error.conflicts[0];
    return {
      status: 409,
      code: 'conflict',
      detail: `event ${first?.id ?? ''} was stored before with other content; nothing of the request was stored`,
      eventIndex: first?.index,
    };
  }
  const answer = problemFromError(error, { batch: count > 1 });
  if (!answer) return undefined;
  const code = answer.status === 403 ? 'forbidden' : answer.status >= 500 ? 'unavailable' : 'invalid-event';
  const index = (answer as { index?: unknown }).index;
  return {
    status: code === 'invalid-event' ? 422 : answer.status,
    code,
    detail: answer.detail ?? answer.title,
    eventIndex: typeof index === 'number' ? index : undefined,
  };
}
