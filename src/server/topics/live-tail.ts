import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import type { StoredRecord, Transport } from '../../transport/transport.ts';
import { messageView } from './message-view.ts';

/** How live tails behave; defaults in the schema. */
export const liveTailOptionsSchema = z.strictObject({
  /** Milliseconds between heartbeat comments on an idle stream. */
  heartbeatMs: z.int().min(10).default(15_000),
  /** Milliseconds between two looks at the partitions' ends when nothing new came. */
  pollMs: z.int().min(1).default(200),
  /** Bytes a stream may hold unsent for a slow client; over it the client is disconnected. */
  maxBufferedBytes: z
    .int()
    .min(1_024)
    .default(1024 * 1024),
  /** Milliseconds a client may take to accept what was sent before it is disconnected as too slow. */
  drainTimeoutMs: z.int().min(10).default(10_000),
});

/** Options of live tails, as given (every key optional). */
export type LiveTailOptions = z.input<typeof liveTailOptionsSchema>;

/** The live tails of a node: how many run, how many slow clients were dropped; ends them all at shutdown. */
export interface LiveTails {
  readonly options: z.output<typeof liveTailOptionsSchema>;
  /** Tails streaming now. */
  active(): number;
  /** Clients disconnected for reading too slowly since the node started. */
  slowDisconnects(): number;
  /** Ends every tail (the node is closing); resolves once each has answered its end. */
  closeAll(): Promise<void>;
  /** Streams a tail on `response` until the client goes, it falls too far behind, or closeAll. */
  run(tail: TailRequest): Promise<void>;
}

/** One live tail: what it reads and where it writes. */
export interface TailRequest {
  transport: Transport;
  topic: string;
  /** Partitions read. */
  partitions: readonly number[];
  /** Start at each partition's end (`now`) or its start (`earliest`). */
  from: 'now' | 'earliest';
  match: ((record: StoredRecord) => boolean) | undefined;
  response: ServerResponse;
  logger: Logger;
}

/** Records read per partition per look. */
const CHUNK = 500;

/** Creates the node's live-tail tracker (options validated once). */
export function createLiveTails(given: LiveTailOptions = {}): LiveTails {
  const options = parseOptions(liveTailOptionsSchema, given, 'liveTail');
  const running = new Map<AbortController, Promise<void>>();
  let slow = 0;
  return {
    options,
    active: () => running.size,
    slowDisconnects: () => slow,
    async closeAll() {
      for (const controller of running.keys()) controller.abort();
      await Promise.all(running.values());
    },
    run(tail) {
      const controller = new AbortController();
      const done = runTail(tail, controller, options, () => slow++).finally(() => running.delete(controller));
      running.set(controller, done);
      return done;
    },
  };
}

/** Runs one tail to its end, and answers that end: a clean end, or a dropped connection for a slow client. */
async function runTail(
  tail: TailRequest,
  controller: AbortController,
  options: z.output<typeof liveTailOptionsSchema>,
  countSlow: () => void,
): Promise<void> {
  const stop = () => controller.abort();
  tail.response.on('close', stop);
  try {
    const outcome = await streamTail(tail, options, controller.signal);
    if (outcome === 'slow') {
      countSlow();
      tail.logger.info({ topic: tail.topic }, 'live tail: slow client disconnected');
      tail.response.destroy();
    } else if (!tail.response.destroyed) {
      tail.response.end();
    }
  } catch (error) {
    tail.logger.warn({ err: error, topic: tail.topic }, 'live tail failed');
    tail.response.destroy();
  } finally {
    tail.response.off('close', stop);
  }
}

/** Streams until aborted (`done`) or the client falls too far behind (`slow`). */
async function streamTail(
  tail: TailRequest,
  options: z.output<typeof liveTailOptionsSchema>,
  signal: AbortSignal,
): Promise<'done' | 'slow'> {
  const { transport, topic, response } = tail;
  const positions = await startPositions(transport, topic, tail.partitions, tail.from);
  const writer = sseWriter(response, options, signal);
  writer.comment(`tailing ${topic}`);
  while (!signal.aborted) {
    const bounds = await transport.offsets(topic);
    let read = 0;
    for (const { partition, earliest, latest } of bounds) {
      let position = positions.get(partition);
      if (position === undefined || signal.aborted) continue;
      if (position < earliest) position = earliest;
      if (position >= latest) continue;
      const records = await transport.read(topic, partition, position, CHUNK);
      read += records.length;
      for (const record of records) {
        position = record.offset + 1n;
        if (tail.match !== undefined && !tail.match(record)) continue;
        const data = JSON.stringify(messageView(record));
        // Over the bound, wait for the client to take what waits before writing more.
        if (!writer.event(`${record.partition}:${record.offset}`, data) && !(await writer.drained())) {
          return signal.aborted ? 'done' : 'slow';
        }
      }
      positions.set(partition, position);
    }
    if (!(await writer.drained())) return signal.aborted ? 'done' : 'slow';
    writer.heartbeatIfIdle();
    if (read === 0) await sleep(options.pollMs, undefined, { signal }).catch(() => undefined);
  }
  return 'done';
}

/** Where the tail starts in each partition read. */
async function startPositions(
  transport: Transport,
  topic: string,
  partitions: readonly number[],
  from: 'now' | 'earliest',
): Promise<Map<number, bigint>> {
  const wanted = new Set(partitions);
  const positions = new Map<number, bigint>();
  for (const bounds of await transport.offsets(topic)) {
    if (wanted.has(bounds.partition)) {
      positions.set(bounds.partition, from === 'now' ? bounds.latest : bounds.earliest);
    }
  }
  return positions;
}

/**
 * Writes server-sent events with a bound on what waits unsent: `event` answers false once more than
 * `maxBufferedBytes` wait, `drained` waits for the client to take what was sent (false past `drainTimeoutMs`),
 * so a stream holds at most the bound plus one message.
 */
function sseWriter(
  response: ServerResponse,
  options: z.output<typeof liveTailOptionsSchema>,
  signal: AbortSignal,
) {
  let lastWrite = Date.now();
  const write = (text: string): boolean => {
    lastWrite = Date.now();
    response.write(text);
    return response.writableLength <= options.maxBufferedBytes;
  };
  return {
    comment: (text: string) => write(`: ${text}\n\n`),
    event: (id: string, data: string) => write(`id: ${id}\ndata: ${data}\n\n`),
    heartbeatIfIdle() {
      if (Date.now() - lastWrite >= options.heartbeatMs) write(': heartbeat\n\n');
    },
    async drained(): Promise<boolean> {
      if (!response.writableNeedDrain) return true;
      try {
        await once(response, 'drain', {
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.drainTimeoutMs)]),
        });
        return true;
      } catch {
        return false;
      }
    },
  };
}
