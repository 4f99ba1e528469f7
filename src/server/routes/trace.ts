import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ResourceNotFoundError } from '../api/errors.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { seesTenant } from '../security/request-scope.ts';
import type { RequestStore } from '../store/request-store.ts';
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

/**
 * Registers `GET /v1/trace/:eventId` and `GET /v1/trace?correlationId=`. A tenant-scoped identity's trace
 * holds only its tenants' events, and an event of another tenant is missing to it (404).
 */
export function registerTraceRoutes(
  api: ApiRegistry,
  options: Omit<TraceSources, 'store'> & { storeOf: RequestStore },
): void {
  const { storeOf, ...rest } = options;
  const scoped = (request: FastifyRequest) => ({
    sources: { ...rest, store: storeOf(request) },
    visible: (tenant: string) => seesTenant(request, tenant),
  });
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
      handler: async ({ params, query, request }) => {
        const { sources, visible } = scoped(request);
        const event = await findTracedEvent(sources, params.eventId, { maxScan: query.maxScan, visible });
        if (event === undefined) throw new ResourceNotFoundError('event', params.eventId, 'params.eventId');
        const trace = await collectTrace(sources, event.correlationid ?? event.id, { ...query, visible });
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
      handler: async ({ query, request }) => {
        const { sources, visible } = scoped(request);
        return traceTree(await collectTrace(sources, query.correlationId, { ...query, visible }));
      },
    }),
  );
}
