import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type FigureSources, type FiguresSample, figuresView, sampleFigures } from './node-figures.ts';

/** Bytes a figures stream may hold unsent before its client is dropped as too slow (a few hundred figures). */
const MAX_UNSENT_BYTES = 256 * 1024;

/** The node's streams of figures: each sends the figures every interval until its client goes or the node closes. */
export interface FigureStreams {
  /** Streams the figures on `response` every `intervalMs` until the client goes (or closeAll). */
  run(response: ServerResponse, intervalMs: number, logger: Logger): Promise<void>;
  /** Streams open now. */
  active(): number;
  /** Ends every stream (the node is closing). */
  closeAll(): Promise<void>;
}

/** Creates the tracker of figure streams on these sources. */
export function createFigureStreams(sources: FigureSources): FigureStreams {
  const running = new Map<AbortController, Promise<void>>();
  return {
    run(response, intervalMs, logger) {
      const controller = new AbortController();
      const stop = () => controller.abort();
      response.on('close', stop);
      const done = stream(sources, response, intervalMs, controller.signal)
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'figures stream failed');
          response.destroy();
        })
        .finally(() => {
          response.off('close', stop);
          running.delete(controller);
          if (!response.destroyed) response.end();
        });
      running.set(controller, done);
      return done;
    },
    active: () => running.size,
    async closeAll() {
      for (const controller of running.keys()) controller.abort();
      await Promise.all(running.values());
    },
  };
}

/** Writes one `figures` event per interval: the first at once (rates null), then rates since the one before. */
async function stream(
  sources: FigureSources,
  response: ServerResponse,
  intervalMs: number,
  signal: AbortSignal,
): Promise<void> {
  let previous: FiguresSample | undefined;
  let sequence = 0;
  while (!signal.aborted) {
    const current = await sampleFigures(sources);
    if (signal.aborted) return;
    response.write(
      `event: figures\nid: ${++sequence}\ndata: ${JSON.stringify(figuresView(current, previous))}\n\n`,
    );
    // A client that takes nothing is dropped rather than buffered without bound.
    if (response.writableLength > MAX_UNSENT_BYTES) {
      response.destroy();
      return;
    }
    previous = current;
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}
