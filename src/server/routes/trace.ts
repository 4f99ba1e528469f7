import { z } from 'zod';
import { ResourceNotFoundError } from '../api/errors.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { collectTrace, findTracedEvent, type TraceSources } from '../trace/collect-trace.ts';
import { traceSchema, traceTree } from '../trace/trace-tree.ts';

const bounds = {
  maxScan: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(200_000)
    .describe('Most topic records looked at, across the catalog topics (newest first); default 200 000.'),
  maxEvents: z.coerce
    .number()
    .int()
    .min(1)
    .max(5_000)
    .default(1_000)
    .describe('Most events in the trace; default 1 000.'),
};

const description =
  'Everything with the same correlation id: the event store (its correlation index) and the catalog ' +
  'topics (records scanned newest first, within `maxScan`), merged by event id and ordered as a causation ' +
  'tree by `causationid`. Each event lists where it is (topic records with the consumer groups whose ' +
  'committed offset is past it, store streams with versions) and its times. `complete: false` says a bound ' +
  'stopped the search.';

/** Registers `GET /v1/trace/:eventId` and `GET /v1/trace?correlationId=`. */
export function registerTraceRoutes(api: ApiRegistry, sources: TraceSources): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/trace/:eventId',
      operationId: 'traceEvent',
      summary: "An event's trace: everything with its correlation id, as a causation tree",
      description,
      tag: 'trace',
      params: z.strictObject({
        eventId: z.string().min(1).describe('CloudEvents id of any event of the trace.'),
      }),
      query: z.strictObject(bounds),
      answer: traceSchema.extend({ eventId: z.string().describe('The event asked for.') }),
      problems: [404],
      handler: async ({ params, query }) => {
        const event = await findTracedEvent(sources, params.eventId, query.maxScan);
        if (event === undefined) throw new ResourceNotFoundError('event', params.eventId, 'params.eventId');
        const trace = await collectTrace(sources, event.correlationid ?? event.id, query);
        return { eventId: params.eventId, ...traceTree(trace) };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/trace',
      operationId: 'traceCorrelation',
      summary: 'Everything with one correlation id, as a causation tree',
      description,
      tag: 'trace',
      query: z.strictObject({
        correlationId: z.string().min(1).describe('The `correlationid` to follow.'),
        ...bounds,
      }),
      answer: traceSchema,
      handler: async ({ query }) => traceTree(await collectTrace(sources, query.correlationId, query)),
    }),
  );
}
