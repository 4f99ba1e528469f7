import { z } from 'zod';
import { browsePartition } from '../../transport/browse-partition.ts';
import type { StoredRecord, TopicConfig, Transport } from '../../transport/transport.ts';
import { RequestInvalidError } from '../api/errors.ts';
import { decodeCursor, encodeCursor, type Page } from '../api/pagination.ts';
import { compileMessageFilter, type MessageFilter, messagePrefilter } from './message-filter.ts';

/** Records a page may look at by default, and at most (bounds a sparse filter's work per request). */
export const SCAN_LIMITS = { default: 10_000, max: 200_000 } as const;

/** What to browse. */
export interface BrowseQuery extends MessageFilter {
  partition?: number | undefined;
  order: 'oldest' | 'newest';
  from?: string | undefined;
  limit: number;
  cursor?: string | undefined;
  maxScan: number;
}

const cursorSchema = z.strictObject({ p: z.int().min(0), o: z.string().regex(/^\d+$/).optional() });

/**
 * A page of a topic's messages: one partition, or every partition one after the other (partition 0 first),
 * in offset order either way, filtered; `scanned` says how many records were looked at.
 */
export async function browseMessages(
  transport: Transport,
  topic: TopicConfig,
  query: BrowseQuery,
): Promise<Page<StoredRecord> & { scanned: number }> {
  const match = compileMessageFilter(query);
  const prefilter = messagePrefilter(query);
  let partition = query.partition ?? 0;
  let from = query.from === undefined ? undefined : BigInt(query.from);
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
  if (query.cursor !== undefined) {
    const position = decodeCursor(cursorSchema, query.cursor);
    partition = position.p;
    from = position.o === undefined ? undefined : BigInt(position.o);
  }
  const records: StoredRecord[] = [];
  let scanned = 0;
  const last = query.partition ?? topic.partitions - 1;
  while (partition <= last) {
    const page = await browsePartition(transport, {
      topic: topic.name,
      partition,
      order: query.order,
      ...(from === undefined ? {} : { from }),
      limit: query.limit - records.length,
      ...(match === undefined ? {} : { match }),
      ...(prefilter === undefined ? {} : { prefilter }),
      maxScan: query.maxScan - scanned,
    });
    records.push(...page.records);
    scanned += page.scanned;
    // The partition has more: the page is full or the scan bound was reached.
    if (page.next !== null) {
      return { items: records, next: encodeCursor({ p: partition, o: page.next.toString() }), scanned };
    }
    partition++;
    from = undefined;
    if (records.length >= query.limit || scanned >= query.maxScan) break;
  }
  return { items: records, next: partition <= last ? encodeCursor({ p: partition }) : null, scanned };
}
