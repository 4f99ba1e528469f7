import type { MatchingReadRequest, StoredRecord, Transport } from './transport.ts';

/** How to browse one partition. */
export interface BrowseRequest {
  topic: string;
  partition: number;
  /** `oldest` reads up from `from` (inclusive); `newest` reads down from `from` (inclusive). */
  order: 'oldest' | 'newest';
  /** Where to start; default the log start (`oldest`) or the last record (`newest`). */
  from?: bigint;
  /** Most records to return. */
  limit: number;
  /** Records to keep; every record when absent. */
  match?: (record: StoredRecord) => boolean;
  /** Most records to look at before answering with what was found (bounds the work of a sparse filter). */
  maxScan: number;
  /** Records per call to the transport; default 500 (a page), more for a scan that reads on. */
  chunk?: number;
  /**
   * What the transport may skip records by where they are kept (`readMatching`), oldest first; `match`
   * still decides. Ignored by transports without it.
   */
  prefilter?: Pick<MatchingReadRequest, 'conditions' | 'whenHeader' | 'key'>;
}

/** A page of a partition. */
export interface BrowseResult {
  records: StoredRecord[];
  /** Where the next page starts (for the same order), or null at the end of the log in that direction. */
  next: bigint | null;
  /** Records looked at. */
  scanned: number;
}

/** Records read per call to the transport unless the request says. */
const CHUNK = 500;

/**
 * Reads a page of one partition in either direction through the port's `read`, keeping the records that
 * match, looking at no more than `maxScan` records. Compaction gaps are skipped.
 */
export async function browsePartition(transport: Transport, request: BrowseRequest): Promise<BrowseResult> {
  const offsets = (await transport.offsets(request.topic)).find((p) => p.partition === request.partition);
  if (!offsets) return { records: [], next: null, scanned: 0 };
  if (request.order === 'oldest' && request.prefilter !== undefined && transport.readMatching !== undefined) {
    return browseUpMatching(transport, request, offsets.earliest, offsets.latest);
  }
  return request.order === 'oldest'
    ? browseUp(transport, request, offsets.earliest, offsets.latest)
    : browseDown(transport, request, offsets.earliest, offsets.latest);
}

async function browseUp(
  transport: Transport,
  request: BrowseRequest,
  earliest: bigint,
  latest: bigint,
): Promise<BrowseResult> {
  const records: StoredRecord[] = [];
  let position = request.from === undefined || request.from < earliest ? earliest : request.from;
  let scanned = 0;
  while (position < latest && records.length < request.limit && scanned < request.maxScan) {
    const want = Math.min(request.chunk ?? CHUNK, request.maxScan - scanned);
    const chunk = await transport.read(request.topic, request.partition, position, want);
    if (chunk.length === 0) break;
    for (const record of chunk) {
      scanned++;
      position = record.offset + 1n;
      if (request.match === undefined || request.match(record)) records.push(record);
      if (records.length === request.limit) break;
    }
  }
  return { records, next: position < latest ? position : null, scanned };
}

/** `browseUp` through the transport's `readMatching`: only records that may match are read back. */
async function browseUpMatching(
  transport: Transport,
  request: BrowseRequest,
  earliest: bigint,
  latest: bigint,
): Promise<BrowseResult> {
  const records: StoredRecord[] = [];
  let position: bigint | null =
    request.from === undefined || request.from < earliest ? earliest : request.from;
  let scanned = 0;
  while (
    position !== null &&
    position < latest &&
    records.length < request.limit &&
    scanned < request.maxScan
  ) {
    const read = await transport.readMatching!(request.topic, request.partition, position, {
      ...request.prefilter!,
      maxScan: Math.min(request.chunk ?? CHUNK, request.maxScan - scanned),
      maxRecords: request.limit - records.length,
    });
    scanned += read.scanned;
    position = read.next;
    for (const record of read.records) {
      if (request.match === undefined || request.match(record)) records.push(record);
      if (records.length === request.limit) {
        // The rest of what was read is looked at again by the next page.
        position = record.offset + 1n;
        break;
      }
    }
  }
  return { records, next: position !== null && position < latest ? position : null, scanned };
}

async function browseDown(
  transport: Transport,
  request: BrowseRequest,
  earliest: bigint,
  latest: bigint,
): Promise<BrowseResult> {
  const records: StoredRecord[] = [];
  // `below` is exclusive: records with offsets under it are still to be looked at.
  let below = request.from === undefined || request.from >= latest ? latest : request.from + 1n;
  let scanned = 0;
  while (below > earliest && records.length < request.limit && scanned < request.maxScan) {
    const size = BigInt(Math.min(request.chunk ?? CHUNK, request.maxScan - scanned));
    const start = below - size > earliest ? below - size : earliest;
    const chunk = (await transport.read(request.topic, request.partition, start, Number(below - start)))
      .filter((record) => record.offset < below)
      .reverse();
    if (chunk.length === 0) {
      below = start;
      continue;
    }
    for (const record of chunk) {
      scanned++;
      below = record.offset;
      if (request.match === undefined || request.match(record)) records.push(record);
      if (records.length === request.limit) break;
    }
    if (records.length < request.limit) below = start;
  }
  return { records, next: below > earliest ? below - 1n : null, scanned };
}
