import { z } from 'zod';
import type { Transport } from '../../transport/transport.ts';
import { RequestInvalidError } from '../api/errors.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import type { LiveTails } from '../topics/live-tail.ts';
import { compileMessageFilter, messageFilterSchema } from '../topics/message-filter.ts';
import { existingTopic } from '../topics/topic-views.ts';

/** What the live tail route needs. */
export interface TopicLiveOptions {
  transport: Transport;
  tails: LiveTails;
}

/** Registers `GET /v1/topics/:topic/live`: a filtered live tail as server-sent events. */
export function registerTopicLiveRoute(api: ApiRegistry, options: TopicLiveOptions): void {
  const { transport, tails } = options;
  const heartbeatSeconds = Math.round(tails.options.heartbeatMs / 1000);
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/topics/:topic/live',
      operationId: 'tailTopic',
      summary: 'Follow a topic live: each new matching message as a server-sent event',
      description:
        'A `text/event-stream` that stays open. Each matching message is one event: `id` is ' +
        '`<partition>:<offset>`, `data` the message as the browser shows it (JSON, with the decoded ' +
        `CloudEvent). A comment line (\`: heartbeat\`) comes every ${heartbeatSeconds} s when nothing else ` +
        'does. Starts at the end of each partition (`from=now`, default) or at its start (`from=earliest`). ' +
        'The tail reads partitions directly: it joins no consumer group. A client that reads too slowly ' +
        'is disconnected rather than buffered without bound; reconnecting starts again per `from`.',
      tag: 'topics',
      params: z.strictObject({ topic: z.string().min(1).describe('Topic name.') }),
      query: messageFilterSchema.extend({
        partition: z.coerce.number().int().min(0).optional().describe('One partition; all when absent.'),
        from: z
          .enum(['now', 'earliest'])
          .default('now')
          .describe('`now` (default): new messages only; `earliest`: from the start of the log.'),
      }),
      answer: z
        .string()
        .describe('Server-sent events: `id: <partition>:<offset>` and `data: <message JSON>`.'),
      answerMediaType: 'text/event-stream',
      streamed: true,
      problems: [404, 422],
      handler: async ({ params, query, request, reply }) => {
        const topic = await existingTopic(transport, params.topic);
        if (query.partition !== undefined && query.partition >= topic.partitions) {
          throw new RequestInvalidError(
            [
              {
                path: 'query.partition',
                rule: 'exists',
                message: `${topic.name} has partitions 0 to ${topic.partitions - 1}`,
              },
            ],
            422,
          );
        }
        const match = compileMessageFilter(query);
        reply.hijack();
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        await tails.run({
          transport,
          topic: topic.name,
          partitions:
            query.partition === undefined
              ? Array.from({ length: topic.partitions }, (_, i) => i)
              : [query.partition],
          from: query.from,
          match,
          response: reply.raw,
          logger: request.log as never,
        });
        return undefined as never;
      },
    }),
  );
}
