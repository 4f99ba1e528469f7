import type { MatchingReadRequest } from '../transport.ts';
import type { ScanPool } from './scan-pool.ts';
import type { MatchingReadStatements, MatchingRows } from './sql/matching-read-statements.ts';

/** Smallest `maxScan` (records) whose window is split across the scan threads; smaller ones (a page) are read in place. */
export const PARALLEL_SCAN_MIN = 4_096;

/** Where one window of a partition lies: its first offset and the log end (exclusive). */
export interface ScanWindow {
  topicId: number;
  partition: number;
  from: bigint;
  logEnd: bigint;
}

/** `first..last` cut into up to `parts` consecutive ranges of (nearly) equal size. */
export function splitRange(
  first: bigint,
  last: bigint,
  parts: number,
): Array<{ first: bigint; last: bigint }> {
  const size = last - first + 1n;
  const step = (size + BigInt(parts) - 1n) / BigInt(parts);
  const ranges: Array<{ first: bigint; last: bigint }> = [];
  for (let start = first; start <= last; start += step) {
    ranges.push({ first: start, last: start + step - 1n < last ? start + step - 1n : last });
  }
  return ranges;
}

/**
 * `readMatching`'s window as consecutive offset ranges scanned at once, one per scan thread, joined in
 * offset order. The window spans `maxScan` offsets, so it holds at most `maxScan` records (fewer where
 * compaction or retention left gaps). Stopping at `maxRecords` is decided on the joined rows, so the
 * answer is the one a single scan of the window gives.
 */
export async function readMatchingInParallel(
  pool: ScanPool,
  local: MatchingReadStatements,
  window: ScanWindow,
  request: MatchingReadRequest,
): Promise<MatchingRows> {
  const { topicId, partition, from, logEnd } = window;
  // An unbounded scan (Infinity) reads to the log end; a fractional bound is rounded down.
  const span = Number.isFinite(request.maxScan) ? BigInt(Math.floor(request.maxScan)) : logEnd - from;
  const end = from + span - 1n < logEnd ? from + span - 1n : logEnd - 1n;
  if (end < from) return { rows: [], lastLooked: undefined, scanned: 0 };
  const { conditions, whenHeader, key, maxRecords } = request;
  const wanted = {
    conditions,
    maxRecords,
    ...(whenHeader === undefined ? {} : { whenHeader }),
    ...(key === undefined ? {} : { key }),
  };
  const ranges = splitRange(from, end, pool.threads);
  const parts = await Promise.all(
    ranges.map((range, thread) => pool.readRange({ topicId, partition, ...range, request: wanted }, thread)),
  );
  const rows: MatchingRows['rows'] = [];
  let scanned = 0;
  for (const [i, part] of parts.entries()) {
    const room = maxRecords - rows.length;
    if (part.rows.length < room) {
      rows.push(...part.rows);
      scanned += part.scanned;
      continue;
    }
    rows.push(...part.rows.slice(0, room));
    const lastLooked = rows.at(-1)!.offset;
    // Cut inside this range: count its records up to the last one kept, as a single scan would stop there.
    scanned +=
      part.lastLooked === lastLooked
        ? part.scanned
        : local.count(topicId, partition, ranges[i]!.first, lastLooked);
    return { rows, lastLooked, scanned };
  }
  return { rows, lastLooked: end, scanned };
}
