/** One server-sent event or comment as a client sees it. */
export interface SseFrame {
  id?: string;
  data?: string;
  comment?: string;
}

/** Reads a `text/event-stream` with fetch, collecting frames; `until` waits for a frame that matches. */
export interface SseReader {
  readonly status: number;
  readonly contentType: string | null;
  readonly frames: SseFrame[];
  /** Resolves with the first frame (from `after` on) that matches, or rejects after `timeoutMs`. */
  until(match: (frame: SseFrame) => boolean, timeoutMs?: number, after?: number): Promise<SseFrame>;
  /** Stops reading and closes the connection. */
  close(): void;
}

/** Opens a stream of server-sent events over HTTP (a real connection, as a browser's EventSource would). */
export async function openSse(url: string): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
  const frames: SseFrame[] = [];
  const waiters = new Set<() => void>();
  const reading = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        frames.push(parseFrame(buffer.slice(0, end)));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
      for (const wake of waiters) wake();
    }
  })().catch(() => undefined);
  void reading;
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    frames,
    until(match, timeoutMs = 5_000, after = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.slice(after).find(match);
          if (found === undefined) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching server-sent event in ${timeoutMs} ms (got ${frames.length})`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => controller.abort(),
  };
}

function parseFrame(text: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('id: ')) frame.id = line.slice(4);
    else if (line.startsWith('data: '))
      frame.data = (frame.data === undefined ? '' : `${frame.data}\n`) + line.slice(6);
  }
  return frame;
}
