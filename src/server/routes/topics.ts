import { z } from 'zod';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { Transport } from '../../transport/transport.ts';
import { actorOf } from '../api/actor.ts';
import { ResourceNotFoundError } from '../api/errors.ts';
import { cursorParam, limitParam, pageOfList, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import type { JobRegistry } from '../jobs/job-registry.ts';
import { seesTenant } from '../security/request-scope.ts';
import { browseMessages, SCAN_LIMITS } from '../topics/browse-messages.ts';
import {
  compileMessageFilter,
  messageFilterSchema,
  messagePrefilter,
  tenantOfRecord,
} from '../topics/message-filter.ts';
import {
  messageSchema,
  messageView,
  messageWithBytesSchema,
  messageWithBytesView,
} from '../topics/message-view.ts';
import { searchTopic } from '../topics/search-topic.ts';
import {
  existingTopic,
  groupsByTopic,
  topicDetailSchema,
  topicSummarySchema,
  topicView,
} from '../topics/topic-views.ts';
import { jobSchema } from './jobs.ts';

/** What the topic routes read. */
export interface TopicRoutesOptions {
  transport: Transport;
  /** Where whole-topic searches run. */
  jobs: JobRegistry;
  /** Tells which groups read a topic (for lag); absent, lag is null. */
  groupAdmin?: GroupAdmin | undefined;
}

const topicParam = z.strictObject({ topic: z.string().min(1).describe('Topic name.') });
const offsetDigits = z.string().regex(/^\d+$/, { error: 'expected an offset: digits only' });

/** Bounds of a whole-topic search: records looked at, and matches kept. */
export const SEARCH_LIMITS = {
  scan: 1_000_000,
  maxScan: 50_000_000,
  matches: 1_000,
  maxMatches: 100_000,
} as const;

/** Registers the topic routes: list, describe, browse messages, one message, search a whole topic. */
export function registerTopicRoutes(api: ApiRegistry, options: TopicRoutesOptions): void {
  registerTopicReads(api, options);
  registerTopicSearch(api, options);
}

function registerTopicSearch(api: ApiRegistry, options: TopicRoutesOptions): void {
  const { transport, jobs } = options;
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/topics/:topic/search',
      operationId: 'searchTopic',
      summary: 'Search a whole topic as a job: progress, cancel, a bound on what it scans',
      description:
        'Matches are listed in the job as `items.matched` (`<partition>:<offset>`); counts `scanned` and ' +
        '`matched`. Filters are those of the message browser.',
      tag: 'topics',
      params: topicParam,
      body: messageFilterSchema.extend({
        maxScan: z
          .int()
          .min(1)
          .max(SEARCH_LIMITS.maxScan)
          .default(SEARCH_LIMITS.scan)
          .describe(`Most records to look at (default ${SEARCH_LIMITS.scan}).`),
        maxMatches: z
          .int()
          .min(1)
          .max(SEARCH_LIMITS.maxMatches)
          .default(SEARCH_LIMITS.matches)
          .describe(`Stop after this many matches (default ${SEARCH_LIMITS.matches}).`),
      }),
      answer: jobSchema,
      status: 202,
      problems: [404, 422],
      handler: async ({ params, body, request }) => {
        const topic = await existingTopic(transport, params.topic);
        const match = compileMessageFilter(body, 'body');
        return jobs.start({
          kind: 'topics.search',
          params: { topic: topic.name, ...body },
          actor: actorOf(request),
          tenant: body.tenant,
          run: (context) =>
            searchTopic(
              transport,
              {
                topic,
                match,
                prefilter: messagePrefilter(body),
                maxScan: body.maxScan,
                maxMatches: body.maxMatches,
              },
              context,
            ),
        });
      },
    }),
  );
}

function registerTopicReads(api: ApiRegistry, options: TopicRoutesOptions): void {
  const { transport, groupAdmin } = options;
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/topics',
      operationId: 'listTopics',
      summary: 'List topics with partitions, config, newest offsets and the total lag of the groups on each',
      tag: 'topics',
      query: z.strictObject({
        prefix: z.string().min(1).optional().describe('Only topics whose name starts with this.'),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(topicSummarySchema),
      handler: async ({ query }) => {
        const names = (await transport.listTopics())
          .filter((name) => name.startsWith(query.prefix ?? ''))
          .sort();
        const page = pageOfList(names, (name) => name, query);
        const groups = await groupsByTopic(groupAdmin);
        const items = [];
        for (const name of page.items) {
          const config = await transport.describeTopic(name);
          if (config === undefined) continue;
          const { groups: _perGroup, ...summary } = await topicView(
            transport,
            config,
            groups && (groups.get(name) ?? []),
          );
          items.push(summary);
        }
        return { items, next: page.next };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/topics/:topic',
      operationId: 'getTopic',
      summary: "A topic's config, per-partition offsets, and the lag of each group on it",
      tag: 'topics',
      params: topicParam,
      answer: topicDetailSchema,
      problems: [404],
      handler: async ({ params }) => {
        const config = await existingTopic(transport, params.topic);
        const groups = await groupsByTopic(groupAdmin);
        return topicView(transport, config, groups && (groups.get(config.name) ?? []));
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/topics/:topic/messages',
      operationId: 'browseMessages',
      summary: 'Browse messages by partition and offset, oldest or newest first, filtered',
      description:
        'Without `partition`, partitions are read one after the other (0 first). `scanned` says how many ' +
        'records were looked at; a page stops at `maxScan` and `next` continues from there.',
      tag: 'topics',
      params: topicParam,
      query: messageFilterSchema.extend({
        partition: z.coerce.number().int().min(0).optional().describe('One partition; all when absent.'),
        order: z
          .enum(['oldest', 'newest'])
          .default('newest')
          .describe('`newest` (default) or `oldest` first.'),
        from: offsetDigits.optional().describe('Offset to start at (inclusive), with `partition`.'),
        limit: limitParam(),
        cursor: cursorParam,
        maxScan: z.coerce
          .number()
          .int()
          .min(1)
          .max(SCAN_LIMITS.max)
          .default(SCAN_LIMITS.default)
          .describe(`Most records to look at for this page (default ${SCAN_LIMITS.default}).`),
      }),
      answer: pageSchema(messageSchema).extend({ scanned: z.int().describe('Records looked at.') }),
      problems: [404, 422],
      handler: async ({ params, query }) => {
        const config = await existingTopic(transport, params.topic);
        const page = await browseMessages(transport, config, query);
        return { items: page.items.map(messageView), next: page.next, scanned: page.scanned };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/topics/:topic/partitions/:partition/offsets/:offset',
      operationId: 'getMessage',
      summary: 'One message: headers, the decoded CloudEvent and its raw bytes (base64)',
      tag: 'topics',
      params: topicParam.extend({ partition: z.coerce.number().int().min(0), offset: offsetDigits }),
      answer: messageWithBytesSchema,
      problems: [404],
      handler: async ({ params, request }) => {
        const config = await existingTopic(transport, params.topic);
        const where = `${params.topic}/${params.partition}/${params.offset}`;
        if (params.partition >= config.partitions)
          throw new ResourceNotFoundError('partition', where, 'params.partition');
        const offset = BigInt(params.offset);
        const bounds = (await transport.offsets(params.topic)).find((p) => p.partition === params.partition);
        if (bounds === undefined || offset < bounds.earliest || offset >= bounds.latest) {
          throw new ResourceNotFoundError('message', where, 'params.offset');
        }
        const [record] = await transport.read(params.topic, params.partition, offset, 1);
        // Another tenant's record reads as a missing one: the answer says nothing of what is there.
        if (
          record === undefined ||
          record.offset !== offset ||
          !seesTenant(request, tenantOfRecord(record))
        ) {
          throw new ResourceNotFoundError('message', where, 'params.offset');
        }
        return messageWithBytesView(record);
      },
    }),
  );
}
