import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type {
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
  StreamPage,
} from '../../store/event-store.ts';
import { RequestInvalidError, ResourceNotFoundError } from '../api/errors.ts';
import { cursorParam, decodeCursor, encodeCursor, limitParam, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { tenantsOf } from '../security/request-scope.ts';
import type { RequestStore } from '../store/request-store.ts';
import {
  snapshotSchema,
  snapshotView,
  storedEventSchema,
  storedEventView,
  streamSchema,
  streamView,
} from '../store/store-views.ts';
import { meetsCondition, parseDataCondition } from '../topics/data-condition.ts';
import { messageFilterSchema } from '../topics/message-filter.ts';

const afterKey = z.strictObject({ after: z.string() });
const fromVersionKey = z.strictObject({ from: z.int().min(0) });
const streamParam = z.strictObject({
  streamId: z.string().min(1).describe('Stream id (URL-encoded: `/` as `%2F`).'),
});

/** The filters of read-all (and of replays): the store's own, declarative. */
export const storeEventFilterFields = {
  type: z.string().min(1).optional().describe('CloudEvents type, exactly.'),
  tenant: z.string().min(1).optional().describe('Owning tenant.'),
  correlationId: z.string().min(1).optional().describe('The `correlationid` extension, exactly.'),
  streamPrefix: z.string().min(1).optional().describe('Streams whose id starts with this text.'),
  since: z.iso.datetime({ offset: true }).optional().describe('Recorded at or after this time.'),
  until: z.iso.datetime({ offset: true }).optional().describe('Recorded before this time.'),
};

/** The store filter from the API's filter fields. */
export function storeFilterOf(query: {
  type?: string | undefined;
  tenant?: string | undefined;
  correlationId?: string | undefined;
  streamPrefix?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}): ReadAllOptions {
  const filter: ReadAllOptions = {};
  if (query.type !== undefined) filter.types = [query.type];
  if (query.tenant !== undefined) filter.tenantId = query.tenant;
  if (query.correlationId !== undefined) filter.correlationId = query.correlationId;
  if (query.streamPrefix !== undefined) filter.streamPrefix = query.streamPrefix;
  if (query.since !== undefined) filter.since = new Date(query.since);
  if (query.until !== undefined) filter.until = new Date(query.until);
  return filter;
}

/**
 * Registers the event store's read routes: streams, one stream's events and snapshots, read-all. Each
 * request reads through `storeOf`: PHI as its identity may see it, a tenant-scoped identity through its
 * tenant's handle (another tenant's stream is missing to it).
 */
export function registerStoreRoutes(api: ApiRegistry, storeOf: RequestStore): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/store/streams',
      operationId: 'listStreams',
      summary: 'List streams in id order, filtered by tenant, id prefix and the event types they hold',
      tag: 'store',
      query: z.strictObject({
        tenant: z.string().min(1).optional().describe('Owning tenant.'),
        type: z.string().min(1).optional().describe('Streams holding at least one event of this type.'),
        prefix: z.string().min(1).optional().describe('Streams whose id starts with this text.'),
        includeDeleted: z.stringbool().default(false).describe('Include deleted (tombstoned) streams.'),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(streamSchema),
      handler: async ({ query, request }) => {
        const after = query.cursor === undefined ? undefined : decodeCursor(afterKey, query.cursor).after;
        const streams = await storeOf(request, query.tenant).listStreams({
          maxCount: query.limit + 1,
          includeDeleted: query.includeDeleted,
          ...(after === undefined ? {} : { after }),
          ...(query.tenant === undefined ? {} : { tenantId: query.tenant }),
          ...(query.type === undefined ? {} : { types: [query.type] }),
          ...(query.prefix === undefined ? {} : { streamPrefix: query.prefix }),
        });
        const page = streams.slice(0, query.limit);
        const last = page.at(-1);
        const more = streams.length > query.limit && last !== undefined;
        return { items: page.map(streamView), next: more ? encodeCursor({ after: last.streamId }) : null };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/store/streams/:streamId',
      operationId: 'getStream',
      summary: 'One stream: its version, the snapshots in force, and a page of its events with versions',
      description:
        'Events oldest first from `from` (a version, default 1), or newest first (`order=newest`). The ' +
        'snapshots are the latest one per aggregate type (`name`): a load starts after its `streamVersion`. ' +
        'A stream that has no events, or was deleted, is 404.',
      tag: 'store',
      params: streamParam,
      query: z.strictObject({
        order: z.enum(['oldest', 'newest']).default('oldest'),
        from: z.coerce.number().int().min(1).optional().describe('First version read.'),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: z.object({
        streamId: z.string(),
        version: z.int().describe('Version of its last event.'),
        snapshots: z.array(snapshotSchema),
        items: z.array(storedEventSchema),
        next: z.string().nullable(),
      }),
      problems: [404],
      handler: async ({ params, query, request }) => {
        const from =
          query.cursor === undefined ? query.from : decodeCursor(fromVersionKey, query.cursor).from;
        const found = await readStreamPage(storeOf, request, params.streamId, {
          direction: query.order === 'newest' ? 'backwards' : 'forwards',
          maxCount: query.limit,
          ...(from === undefined ? {} : { fromVersion: from }),
        });
        if (found === undefined)
          throw new ResourceNotFoundError('stream', params.streamId, 'params.streamId');
        const { store, page } = found;
        const snapshots = await store.listSnapshots(params.streamId);
        return {
          streamId: page.streamId,
          version: page.streamVersion,
          snapshots: snapshots.map(snapshotView),
          items: page.events.map(storedEventView),
          next: page.next === undefined ? null : encodeCursor({ from: page.next }),
        };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/store/events',
      operationId: 'readAllEvents',
      summary: "Every stored event in the store's global order, filtered",
      description:
        'The store filters by `type`, `tenant`, `correlationId`, `streamPrefix` and time with its indexes. ' +
        '`subject` and `where` conditions (as in the message browser: `data.vitals.heartRate>=120`) are ' +
        'checked on each event read, looking at no more than `maxScan` events per page: a sparse filter ' +
        'answers with fewer items and a `next` to go on, `scanned` says how many were looked at.',
      tag: 'store',
      query: z.strictObject({
        ...storeEventFilterFields,
        subject: z.string().min(1).optional().describe('CloudEvents `subject`, exactly.'),
        where: messageFilterSchema.shape.where,
        maxScan: z.coerce
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(10_000)
          .describe('Most events looked at per page when `subject` or `where` is given; default 10 000.'),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(storedEventSchema).extend({
        scanned: z.int().describe('Events looked at for this page.'),
      }),
      problems: [422],
      handler: async ({ query, request }) => {
        const after = query.cursor === undefined ? undefined : decodeCursor(afterKey, query.cursor).after;
        const page = await readFiltered(storeOf(request, query.tenant), {
          filter: storeFilterOf(query),
          match: storedEventMatcher(query),
          after,
          limit: query.limit,
          maxScan: query.maxScan,
        });
        return {
          items: page.events.map(storedEventView),
          next: page.next === undefined ? null : encodeCursor({ after: page.next }),
          scanned: page.scanned,
        };
      },
    }),
  );
}

/**
 * A page of one stream as the request may see it: through each of its tenants' handles for a tenant-scoped
 * identity (the stream is another tenant's, or missing, or deleted: undefined, one answer for all three).
 */
async function readStreamPage(
  storeOf: RequestStore,
  request: FastifyRequest,
  streamId: string,
  options: ReadStreamOptions,
): Promise<{ store: EventStore; page: StreamPage } | undefined> {
  for (const tenant of tenantsOf(request) ?? [undefined]) {
    const store = storeOf(request, tenant);
    const page = await store.readStream(streamId, options).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'KEEL_STORE_STREAM_DELETED') return undefined;
      throw error;
    });
    if (page !== undefined && page.streamVersion > 0) return { store, page };
  }
  return undefined;
}

/** The `subject` and `where` conditions on a stored event, parsed (errors name `query.where`); undefined when none. */
function storedEventMatcher(query: {
  subject?: string | undefined;
  where?: string | string[] | undefined;
  since?: string | undefined;
  until?: string | undefined;
}): ((stored: StoredEvent) => boolean) | undefined {
  if (
    query.since !== undefined &&
    query.until !== undefined &&
    Date.parse(query.until) <= Date.parse(query.since)
  ) {
    throw new RequestInvalidError(
      [{ path: 'query.until', rule: 'after_since', message: 'must be later than `since`' }],
      422,
    );
  }
  const texts =
    query.where === undefined ? [] : typeof query.where === 'string' ? [query.where] : query.where;
  const conditions = texts.map((text, i) =>
    parseDataCondition(text, typeof query.where === 'string' ? 'query.where' : `query.where.${i}`),
  );
  const { subject } = query;
  if (subject === undefined && conditions.length === 0) return undefined;
  return (stored) =>
    (subject === undefined || stored.event.subject === subject) &&
    conditions.every((condition) =>
      meetsCondition(stored.event as unknown as Record<string, unknown>, condition),
    );
}

/** One page of read-all, the events checked by `match` (within `maxScan`); `next` resumes after what was looked at. */
async function readFiltered(
  store: EventStore,
  options: {
    filter: ReadAllOptions;
    match: ((stored: StoredEvent) => boolean) | undefined;
    after: string | undefined;
    limit: number;
    maxScan: number;
  },
): Promise<{ events: StoredEvent[]; next: string | undefined; scanned: number }> {
  const { filter, match, limit } = options;
  if (match === undefined) {
    const page = await store.readAll({
      ...filter,
      maxCount: limit,
      ...(options.after === undefined ? {} : { after: options.after }),
    });
    return { events: page.events, next: page.hasMore ? page.next : undefined, scanned: page.events.length };
  }
  const events: StoredEvent[] = [];
  let after = options.after;
  let scanned = 0;
  for (;;) {
    const page = await store.readAll({
      ...filter,
      maxCount: Math.min(500, options.maxScan - scanned),
      ...(after === undefined ? {} : { after }),
    });
    for (const stored of page.events) {
      scanned += 1;
      if (!match(stored)) continue;
      events.push(stored);
      // Full: the next page starts right after this event (those after it in the page are read again).
      if (events.length === limit) return { events, next: stored.checkpoint, scanned };
    }
    after = page.next;
    if (!page.hasMore) return { events, next: undefined, scanned };
    if (scanned >= options.maxScan) return { events, next: after, scanned };
  }
}
