import { z } from 'zod';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import type { FigureStreams } from '../live/figure-streams.ts';
import { type FigureSources, figuresSchema, figuresView, sampleFigures } from '../live/node-figures.ts';

/** Registers `GET /v1/figures` (one look) and `GET /v1/live/figures` (server-sent events, one per interval). */
export function registerFigureRoutes(api: ApiRegistry, sources: FigureSources, streams: FigureStreams): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/figures',
      operationId: 'getFigures',
      summary:
        "The node's figures now: lag per group, dead letters, breakers, workflows at risk (rates need the stream)",
      tag: 'live',
      answer: figuresSchema,
      handler: async () => figuresView(await sampleFigures(sources)),
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/live/figures',
      operationId: 'streamFigures',
      summary:
        "The node's figures as server-sent events: rates, lag, dead letters, breakers, workflows at risk",
      description:
        'A `text/event-stream` that stays open: one `figures` event at once (rates null), then one every ' +
        '`intervalMs` with the rates since the one before (appended and consumed records per second on the ' +
        "catalog topics, the node's own publishes and publish errors). `id` counts the events from 1.",
      tag: 'live',
      query: z.strictObject({
        intervalMs: z.coerce
          .number()
          .int()
          .min(250)
          .max(15_000)
          .default(2_000)
          .describe('Milliseconds between two figures; 250 to 15 000, default 2 000.'),
      }),
      answer: z.string().describe('Server-sent events: `event: figures`, `id: <n>`, `data: <figures JSON>`.'),
      answerMediaType: 'text/event-stream',
      streamed: true,
      handler: async ({ query, request, reply }) => {
        reply.hijack();
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        await streams.run(reply.raw, query.intervalMs, request.log as never);
        return undefined as never;
      },
    }),
  );
}
