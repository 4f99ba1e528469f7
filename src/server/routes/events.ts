import type { FastifyInstance } from 'fastify';
import type { DecodedCloudEvent, Publisher } from '../../bus/publisher-port.ts';
import { decodeHttp } from '../../events/http-binding.ts';
import { problem, problemFromError, sendProblem } from '../problem.ts';

/** How a request carries its events (CloudEvents HTTP binding modes). */
type Mode = 'structured' | 'batch' | 'binary';

/** What the ingestion route needs. */
export interface EventsRouteOptions {
  publisher: Publisher;
}

/** Registers `POST /v1/events`: one event or a batch, in structured, batch or binary mode; 201 with where each was stored. */
export function registerEventsRoute(app: FastifyInstance, options: EventsRouteOptions): void {
  const { publisher } = options;

  app.post('/v1/events', async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const mode = modeOf(request.headers, body);
    if (mode === undefined) {
      return sendProblem(
        reply,
        problem(
          'unsupported-media-type',
          415,
          'Unsupported media type',
          `cannot read events from content type ${JSON.stringify(request.headers['content-type'] ?? '(none)')}: ` +
            'send application/cloudevents+json (structured), application/cloudevents-batch+json (batch), ' +
            'the event data with ce-* headers (binary), or an event or array of events as application/json',
        ),
      );
    }
    let events: DecodedCloudEvent[] | undefined;
    try {
      // Decoded and checked once: the publisher checks only the data against the catalog.
      events = decodeHttp(request.headers, body) as DecodedCloudEvent[];
      const receipts = await publisher.publishDecoded(events);
      return reply.code(201).send({
        events: receipts.map((receipt) => ({
          id: receipt.id,
          type: receipt.type,
          topic: receipt.topic,
          partition: receipt.partition,
          offset: receipt.offset.toString(),
        })),
      });
    } catch (error) {
      const answer = problemFromError(error, {
        batch: mode === 'batch',
        types: events?.map((event) => event.type),
      });
      if (!answer) throw error;
      request.log.info({ problem: answer.type, detail: answer.detail }, 'events rejected');
      return sendProblem(reply, answer);
    }
  });
}

/**
 * The binding mode of a request, or undefined when no mode fits (answered 415). Besides the three
 * modes of the binding, `application/json` without `ce-*` headers is read as structured or batch
 * (decodeHttp's convenience for clients that cannot set a CloudEvents content type).
 */
function modeOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): Mode | undefined {
  const contentType = headers['content-type'];
  const mediaType = (Array.isArray(contentType) ? contentType[0] : contentType)
    ?.split(';')[0]
    ?.trim()
    .toLowerCase();
  // Other application/cloudevents* formats go to decodeHttp, which names them as unsupported.
  if (mediaType?.startsWith('application/cloudevents-batch')) return 'batch';
  if (mediaType?.startsWith('application/cloudevents')) return 'structured';
  if (Object.keys(headers).some((name) => name.toLowerCase().startsWith('ce-'))) return 'binary';
  if (mediaType === 'application/json') return firstNonSpace(body) === '[' ? 'batch' : 'structured';
  return undefined;
}

function firstNonSpace(body: Buffer): string | undefined {
  for (const byte of body) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return String.fromCharCode(byte);
  }
  return undefined;
}
