import createClient from 'openapi-fetch';
import { authHeaders, credentialRefused } from '../state/session';
import type { components, operations, paths } from './schema';

/** RFC 9457 problem details, as every API error answers. */
export type Problem = components['schemas']['Problem'];

/** The JSON answer (status 200 or 202) of an API operation. */
export type Answer<K extends keyof operations> = operations[K]['responses'] extends {
  200: { content: { 'application/json': infer A } };
}
  ? A
  : operations[K]['responses'] extends { 202: { content: { 'application/json': infer A } } }
    ? A
    : never;

/** A failed API call: the node's problem details (or one made up for a network failure). */
export class ApiProblem extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiProblem';
    this.problem = problem;
  }
}

/** Who the console says acts, recorded by the node in its audit of retries, discards and resets. */
const ACTOR = 'console';

/** The node's HTTP API, typed by its OpenAPI document (`schema.d.ts`, generated from `/v1/openapi.json`). */
export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? '',
  headers: { 'keel-actor': ACTOR },
});

// Every call carries the session's credential; a 401 means it is missing, expired or revoked: ask again.
api.use({
  onRequest({ request }) {
    for (const [name, value] of Object.entries(authHeaders())) request.headers.set(name, value);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) credentialRefused();
    return response;
  },
});

/** The data of an openapi-fetch result, or an ApiProblem carrying the node's problem details. */
export async function answer<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    throw new ApiProblem({
      type: 'about:blank',
      title: 'The node did not answer',
      status: 0,
      detail: `${error instanceof Error ? error.message : String(error)} — is the node running?`,
    });
  }
  if (result.error !== undefined || !result.response.ok) throw new ApiProblem(problemOf(result));
  return result.data as T;
}

function problemOf(result: { error?: unknown; response: Response }): Problem {
  const body = result.error;
  if (body && typeof body === 'object' && 'title' in body) return body as Problem;
  return {
    type: 'about:blank',
    title: result.response.statusText || 'Request failed',
    status: result.response.status,
    detail: typeof body === 'string' && body ? body : `the node answered ${result.response.status}`,
  };
}
