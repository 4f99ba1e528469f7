import { authHeaders, credentialRefused } from '../state/session';

/** Milliseconds before a dropped stream is opened again. */
const RECONNECT_MS = 2000;

/** What a stream tells its page. */
export interface EventStreamHandlers {
  /** Each event: its name (`message` when unnamed) and data. */
  onEvent(name: string, data: string): void;
  /** `open` while connected, `connecting` while retrying, `closed` when the node refused it. */
  onState(state: 'open' | 'connecting' | 'closed'): void;
}

/**
 * Follows server-sent events like EventSource, but with `fetch`, so the session's credential goes in the
 * Authorization header (EventSource cannot send headers, and a token in the URL would end up in logs).
 * Reconnects after a drop; a 4xx answer closes it (a 401 also asks for credentials again). Returns what stops it.
 */
export function openEventStream(url: string, handlers: EventStreamHandlers): () => void {
  const controller = new AbortController();
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(url, {
          headers: { accept: 'text/event-stream', ...authHeaders() },
          signal: controller.signal,
        });
        if (response.status === 401) credentialRefused();
        if (response.status >= 400 && response.status < 500) {
          handlers.onState('closed');
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`stream answered ${response.status}`);
        handlers.onState('open');
        await readEvents(response.body, handlers.onEvent);
      } catch {
        if (controller.signal.aborted) return;
      }
      handlers.onState('connecting');
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  };
  void run();
  return () => controller.abort();
}

/** Reads `text/event-stream` blocks (separated by a blank line) until the stream ends. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: EventStreamHandlers['onEvent']) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end = buffered.indexOf('\n\n');
    while (end >= 0) {
      dispatch(buffered.slice(0, end), onEvent);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\n\n');
    }
  }
}

function dispatch(block: string, onEvent: EventStreamHandlers['onEvent']): void {
  let name = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length > 0) onEvent(name, data.join('\n'));
}
