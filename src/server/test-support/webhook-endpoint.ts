import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request an endpoint received. */
export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** How a path answers: a status (and body, after `delayMs`), `hang` (never answers) or `reset` (drops the connection). */
export type Answer = { status: number; body?: string; delayMs?: number } | 'hang' | 'reset';

/** An HTTP server standing in for a subscriber's endpoint: records every request, answers as told per path. */
export interface WebhookEndpoint {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Requests to one path. */
  at(path: string): ReceivedRequest[];
  /** Sets how a path answers from now on (default 204). */
  answer(path: string, answer: Answer | ((request: ReceivedRequest, count: number) => Answer)): void;
  /** Resolves once `path` received `count` requests matching `accept`; fails after `timeoutMs`. */
  waitFor(
    path: string,
    count: number,
    timeoutMs: number,
    accept?: (r: ReceivedRequest) => boolean,
  ): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** Starts a webhook endpoint on 127.0.0.1 and a free port. */
export async function startWebhookEndpoint(): Promise<WebhookEndpoint> {
  const received: ReceivedRequest[] = [];
  const answers = new Map<string, Answer | ((request: ReceivedRequest, count: number) => Answer)>();
  const hanging = new Set<ServerResponse>();
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0] as string;
      const entry: ReceivedRequest = {
        path,
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(entry);
      const rule = answers.get(path) ?? { status: 204 };
      const answer =
        typeof rule === 'function' ? rule(entry, received.filter((r) => r.path === path).length) : rule;
      if (answer === 'reset') {
        request.socket.destroy();
        return;
      }
      if (answer === 'hang') {
        hanging.add(response);
        return;
      }
      const send = () =>
        response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
      if (answer.delayMs === undefined) send();
      else setTimeout(send, answer.delayMs);
    });
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const at = (path: string) => received.filter((r) => r.path === path);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    at,
    answer: (path, answer) => void answers.set(path, answer),
    async waitFor(path, count, timeoutMs, accept = () => true) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = at(path).filter(accept);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline)
          throw new Error(`${path} received ${matching.length} of ${count} requests within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
