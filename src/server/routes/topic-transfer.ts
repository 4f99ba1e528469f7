import { Readable } from 'node:stream';
import { z } from 'zod';
import { assertMayPublish, outgoingOf } from '../../bus/guarded-publisher.ts';
import type { Publisher } from '../../bus/publisher-port.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { Transport } from '../../transport/transport.ts';
import {
  OperationForbiddenError,
  RequestInvalidError,
  ResourceConflictError,
  UnsupportedMediaTypeError,
} from '../api/errors.ts';
import { assertJsonDepth } from '../api/json-depth.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { IdempotencyConflictError } from '../idempotency/idempotency-conflict.ts';
import type { IdempotentPublish } from '../idempotency/idempotent-publish.ts';
import { problemFromError } from '../problem.ts';
import { csvText, exportedEvents, ndjsonText } from '../topics/export-records.ts';
import { readImport } from '../topics/import-events.ts';
import { compileMessageFilter, messageFilterSchema } from '../topics/message-filter.ts';
import { existingTopic } from '../topics/topic-views.ts';

/** What export and import need. */
export interface TopicTransferOptions {
  transport: Transport;
  catalog: Catalog;
  publisher: Publisher;
  /** Imports through idempotent publish when present: importing a file twice appends it once. */
  idempotent?: IdempotentPublish | undefined;
  /** False answers export with 403 (`KEEL_EXPORT_ENABLED`). */
  exportEnabled: boolean;
}

/** Media types of an NDJSON body an import reads. */
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'] as const;

const topicParam = z.strictObject({ topic: z.string().min(1).describe('Topic name.') });
const offsetDigits = z.string().regex(/^\d+$/, { error: 'expected an offset: digits only' });

/** Registers `GET /v1/topics/:topic/export` and `POST /v1/topics/:topic/import`. */
export function registerTopicTransferRoutes(api: ApiRegistry, options: TopicTransferOptions): void {
  registerExport(api, options);
  registerImport(api, options);
}

function registerExport(api: ApiRegistry, options: TopicTransferOptions): void {
  const { transport } = options;
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/topics/:topic/export',
      operationId: 'exportTopic',
      summary: 'Stream a selection of messages as NDJSON (one CloudEvent per line) or CSV',
      description:
        'The same filters as the message browser; partitions one after the other (0 first), in offset ' +
        'order; the end of each partition is taken when the export starts. Records that are not ' +
        'CloudEvents are left out. NDJSON lines are CloudEvents in the JSON format, and import back ' +
        'with `POST /v1/topics/:topic/import`. CSV columns: ' +
        '`topic,partition,offset,id,type,source,subject,time,correlationid,tenantid,data` (data as JSON; ' +
        "text starting with `= + - @` is prefixed with `'`). The answer is streamed. 403 when the node " +
        'forbids exports (`KEEL_EXPORT_ENABLED=false`).',
      tag: 'topics',
      params: topicParam,
      query: messageFilterSchema.extend({
        format: z.enum(['ndjson', 'csv']).default('ndjson').describe('`ndjson` (default) or `csv`.'),
        partition: z.coerce.number().int().min(0).optional().describe('One partition; all when absent.'),
        from: offsetDigits.optional().describe('First offset (inclusive), with `partition`.'),
        to: offsetDigits.optional().describe('Offset to stop before (exclusive), with `partition`.'),
        limit: z.coerce.number().int().min(1).optional().describe('Most events to write; all when absent.'),
      }),
      answer: z
        .string()
        .describe(
          'NDJSON: one CloudEvent (JSON format) per line; CSV: a header row, then one row per event.',
        ),
      answerMediaTypes: ['application/x-ndjson', 'text/csv'],
      streamed: true,
      problems: [403, 404, 422],
      handler: async ({ params, query, reply }) => {
        if (!options.exportEnabled) {
          throw new OperationForbiddenError('exports are turned off on this node', 'KEEL_EXPORT_ENABLED');
        }
        const topic = await existingTopic(transport, params.topic);
        checkExportBounds(query, topic.partitions);
        const events = exportedEvents(transport, {
          topic,
          partition: query.partition,
          from: query.from === undefined ? undefined : BigInt(query.from),
          to: query.to === undefined ? undefined : BigInt(query.to),
          match: compileMessageFilter(query),
          limit: query.limit,
        });
        const csv = query.format === 'csv';
        reply
          .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="${fileName(topic.name)}.${query.format}"`);
        return Readable.from(csv ? csvText(events) : ndjsonText(events)) as never;
      },
    }),
  );
}

/** Refuses offset bounds without a partition, outside the topic, or ending before they start (422). */
function checkExportBounds(
  query: { partition?: number | undefined; from?: string | undefined; to?: string | undefined },
  partitions: number,
): void {
  const issue = (path: string, rule: string, message: string) => {
    throw new RequestInvalidError([{ path, rule, message }], 422);
  };
  if (query.partition !== undefined && query.partition >= partitions) {
    issue('query.partition', 'exists', `the topic has partitions 0 to ${partitions - 1}`);
  }
  if (query.partition === undefined && query.from !== undefined) {
    issue('query.from', 'needs_partition', 'an offset bound needs `partition`');
  }
  if (query.partition === undefined && query.to !== undefined) {
    issue('query.to', 'needs_partition', 'an offset bound needs `partition`');
  }
  if (query.from !== undefined && query.to !== undefined && BigInt(query.to) <= BigInt(query.from)) {
    issue('query.to', 'after_from', 'must be greater than `from`');
  }
}

/** A topic name safe inside a quoted `filename`. */
function fileName(topic: string): string {
  return topic.replace(/[^A-Za-z0-9._-]/g, '_');
}

function registerImport(api: ApiRegistry, options: TopicTransferOptions): void {
  const { transport, catalog, publisher } = options;
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/topics/:topic/import',
      operationId: 'importTopic',
      summary: 'Import an NDJSON export: every line validated against the catalog, all or nothing',
      description:
        'One CloudEvent (JSON format) per line, as `GET /v1/topics/:topic/export` writes them; blank lines ' +
        'are skipped. Every event must be of a type the catalog puts on this topic, with valid data. An ' +
        'error names the line and the field (`line[3].data.dateOfBirth`, at most 100 listed) and nothing ' +
        'is written. Events are appended as sent (ids, times, sources kept), and through idempotent ' +
        'publish: importing the same file again appends nothing (`replayed` counts them); an id stored ' +
        'with other content is a 409 naming the line. One request is one all-or-nothing append, up to the ' +
        "node's body limit (split larger files).",
      tag: 'topics',
      params: topicParam,
      body: z.string().describe('NDJSON: one CloudEvent in the JSON format per line.'),
      bodyMediaTypes: NDJSON_TYPES,
      rawBody: true,
      answer: z.object({
        topic: z.string(),
        imported: z.int().describe('Events appended by this request.'),
        replayed: z
          .int()
          .describe('Events already stored with the same source, id and content (not appended again).'),
      }),
      status: 201,
      problems: [404, 409, 413, 415],
      handler: async ({ params, request }) => {
        const topic = await existingTopic(transport, params.topic);
        const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (!NDJSON_TYPES.includes(contentType as never)) {
          throw new UnsupportedMediaTypeError(request.headers['content-type'], NDJSON_TYPES);
        }
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const { events, lines } = readImport(body, catalog, topic.name);
        events.forEach((event, index) => {
          assertJsonDepth(event.data, `line ${lines[index] ?? index + 1}: data`);
        });
        if (request.identity) {
          const outgoing = outgoingOf(events).map((event) => ({ ...event, topic: topic.name }));
          assertMayPublish(request.identity, catalog, outgoing);
        }
        const receipts = await appendImport(events, lines, publisher, options.idempotent);
        const replayed = receipts.filter((receipt) => receipt.replayed).length;
        return { topic: topic.name, imported: receipts.length - replayed, replayed };
      },
    }),
  );
}

/** Appends the events in one request; errors name the line of the event they are about. */
async function appendImport(
  events: Parameters<IdempotentPublish>[0],
  lines: readonly number[],
  publisher: Publisher,
  idempotent: IdempotentPublish | undefined,
): Promise<{ replayed?: true | undefined }[]> {
  try {
    if (idempotent) return await idempotent(events);
    return (await publisher.publishDecoded(events)).map(() => ({}));
  } catch (error) {
    const lineOf = (index: number) => lines[index] ?? index + 1;
    if (error instanceof IdempotencyConflictError) {
      const first = error.conflicts[0];
      throw new ResourceConflictError(error.message, first && `line[${lineOf(first.index)}].id`);
    }
    const answer = problemFromError(error, { batch: true });
    if (answer === undefined || answer.status >= 500) throw error;
    throw new RequestInvalidError(
      (answer.errors ?? []).map((issue) => ({
        ...issue,
        path: issue.path.replace(/^\[(\d+)\]/, (_, index) => `line[${lineOf(Number(index))}]`),
      })),
    );
  }
}
