import { KeelError } from '../../errors/keel-error.ts';

/** Where the CLI finds the node when neither `--url` nor `KEEL_URL` says. */
export const DEFAULT_NODE_URL = 'http://127.0.0.1:4000';

/** An RFC 9457 problem as the node answers it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** The fields that were wrong, when the node names them. */
  errors?: Array<{ path?: string; message?: string }>;
}

/** The node answered a request with an error status. */
export class NodeRequestError extends KeelError {
  readonly code = 'KEEL_NODE_REQUEST';
  /** HTTP status of the answer. */
  readonly status: number;
  /** The problem document, when the answer was one. */
  readonly problem: Problem | undefined;

  constructor(method: string, path: string, status: number, problem: Problem | undefined) {
    // The node's detail already names every field that was wrong.
    super(
      `${method} ${path}: ${status} ${problem?.title ?? 'error'}${problem?.detail ? `: ${problem.detail}` : ''}`,
    );
    this.status = status;
    this.problem = problem;
  }
}

/** The node did not answer at all (not running, wrong address). */
export class NodeUnreachableError extends KeelError {
  readonly code = 'KEEL_NODE_UNREACHABLE';
  /** The address that was tried. */
  readonly url: string;

  constructor(url: string, cause: unknown) {
    const reason = (cause as { cause?: { code?: string } } | null)?.cause?.code ?? (cause as Error)?.message;
    super(`no node answers at ${url} (${reason}): start one with \`keel start\` or pass --url / KEEL_URL`, {
      cause,
    });
    this.url = url;
  }
}

/** Query parameters: arrays repeat the parameter, undefined ones are left out. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** A request beyond the defaults (JSON in, JSON out). */
export interface RequestOptions {
  query?: Query;
  /** A JSON value, or raw text with `contentType`. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** HTTP methods the CLI sends. */
export type ClientMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The node's HTTP API as the CLI uses it. */
export interface NodeClient {
  /** Base address, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** Sends a request and parses the JSON answer; an error status rejects with NodeRequestError. */
  json<T>(method: ClientMethod, path: string, options?: RequestOptions): Promise<T>;
  /** Sends a request and hands back the answer as it streams (status checked). */
  open(method: ClientMethod, path: string, options?: RequestOptions): Promise<Response>;
}

function withQuery(base: string, path: string, query: Query = {}): string {
  const url = new URL(path, base);
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, item);
    else url.searchParams.set(name, String(value));
  }
  return url.toString();
}

/** The problem document of an error answer, if it is one. */
async function problemOf(response: Response): Promise<Problem | undefined> {
  const text = await response.text().catch(() => '');
  try {
    return JSON.parse(text) as Problem;
  } catch {
    return text ? { detail: text.slice(0, 300) } : undefined;
  }
}

/**
 * A client of the node at `url`; `actor` goes in the `keel-actor` header, which the node records, and
 * `credential` (an API key or an OpenID Connect token) in `Authorization: Bearer`.
 */
export function createNodeClient(options: { url: string; actor?: string; credential?: string }): NodeClient {
  const url = options.url.replace(/\/+$/, '');
  const open = async (method: ClientMethod, path: string, request: RequestOptions = {}) => {
    const headers: Record<string, string> = { accept: request.accept ?? 'application/json' };
    if (options.actor) headers['keel-actor'] = options.actor;
    if (options.credential) headers.authorization = `Bearer ${options.credential}`;
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/json';
      body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    }
    let response: Response;
    try {
      response = await fetch(withQuery(url, path, request.query), {
        method,
        headers,
        body,
        signal: request.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new NodeUnreachableError(url, error);
    }
    if (!response.ok) throw new NodeRequestError(method, path, response.status, await problemOf(response));
    return response;
  };
  return {
    url,
    open,
    json: async <T>(method: ClientMethod, path: string, request?: RequestOptions) =>
      (await (await open(method, path, request)).json()) as T,
  };
}
