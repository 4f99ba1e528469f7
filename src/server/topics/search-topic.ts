import { type BrowseRequest, browsePartition } from '../../transport/browse-partition.ts';
import type { StoredRecord, TopicConfig, Transport } from '../../transport/transport.ts';
import type { JobContext } from '../jobs/job-registry.ts';

/** Records looked at per step of a search; progress and cancellation are checked between steps. */
export const SEARCH_STEP = 20_000;

/** What a whole-topic search looks at and keeps. */
export interface TopicSearch {
  topic: TopicConfig;
  match: ((record: StoredRecord) => boolean) | undefined;
  /** What the transport may check where it keeps the records (see `messagePrefilter`). */
  prefilter?: BrowseRequest['prefilter'];
  /** Most records to look at in all. */
  maxScan: number;
  /** Most matches to keep; the search stops once it has them. */
  maxMatches: number;
}

/**
 * Scans every partition of a topic oldest first, as a job: progress is records looked at out of those
 * held (bounded by `maxScan`); matches are recorded as `<partition>:<offset>` under `matched`, in
 * partition then offset order. Stops at the bounds, or at the next step when cancelled.
 */
export async function searchTopic(
  transport: Transport,
  search: TopicSearch,
  context: JobContext,
): Promise<void> {
  const partitions = await transport.offsets(search.topic.name);
  const held = partitions.reduce((sum, p) => sum + Number(p.latest - p.earliest), 0);
  const total = Math.min(held, search.maxScan);
  let scanned = 0;
  let matched = 0;
  context.progress(0, total);
  for (const { partition } of partitions) {
    let from: bigint | null | undefined;
    while (from !== null && scanned < search.maxScan && matched < search.maxMatches) {
      if (context.signal.aborted) return;
      const page = await browsePartition(transport, {
        topic: search.topic.name,
        partition,
        order: 'oldest',
        ...(from === undefined ? {} : { from }),
        limit: search.maxMatches - matched,
        ...(search.match === undefined ? {} : { match: search.match }),
        maxScan: Math.min(SEARCH_STEP, search.maxScan - scanned),
        chunk: SEARCH_STEP,
        ...(search.prefilter === undefined ? {} : { prefilter: search.prefilter }),
      });
      for (const record of page.records) context.count('matched', 1, `${record.partition}:${record.offset}`);
      matched += page.records.length;
      scanned += page.scanned;
      context.count('scanned', page.scanned);
      context.progress(Math.min(scanned, total), total);
      from = page.next;
    }
  }
}
