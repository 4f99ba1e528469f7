// A scan thread: its own read-only connection to the log file, answering `readRange` requests from the
// transport's thread (see scan-pool.ts). Runs as a worker, so a long scan neither blocks the node's
// event loop nor waits for it.
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { RangeRequest } from './sql/matching-read-statements.ts';
import { prepareMatchingReadStatements } from './sql/matching-read-statements.ts';

/** What the transport's thread hands a scan thread when it starts it. */
export interface ScanThreadData {
  path: string;
  busyTimeoutMs: number;
}

/** A request to a scan thread, numbered so its answer finds its caller. */
export interface ScanTask {
  id: number;
  range: RangeRequest;
}

/** Bytes of the file a scan thread reads through a memory map instead of copying pages into its cache. */
export const SCAN_MMAP_BYTES = 2 ** 31;

const { path, busyTimeoutMs } = workerData as ScanThreadData;
const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
db.pragma(`busy_timeout = ${busyTimeoutMs}`);
// Scans read every page of a range once: mapped pages cost no copy, which roughly halves the cost of
// reading them (measured in docs/decisions/0034). Read-only, so a mapped page is never written through.
db.pragma(`mmap_size = ${SCAN_MMAP_BYTES}`);
const statements = prepareMatchingReadStatements(db);
parentPort!.postMessage({ ready: true });

parentPort!.on('message', ({ id, range }: ScanTask) => {
  try {
    parentPort!.postMessage({ id, found: statements.readRange(range) });
  } catch (error) {
    const { name, message, code } = error as { name?: string; message?: string; code?: string };
    parentPort!.postMessage({ id, error: { name, message, code } });
  }
});
