import type { FastifyReply } from 'fastify';
import { batchIndexOf } from '../bus/errors.ts';
import type { ValidationIssue } from '../events/errors.ts';

/** Base of Keel's problem type URIs; each problem type is a page under it. */
export const PROBLEM_BASE = 'https://keel.dev/problems/';

/** Media type of RFC 9457 problem details. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** An RFC 9457 problem details body, with Keel's extension members. */
export interface Problem {
  /** URI naming the kind of problem, e.g. `https://keel.dev/problems/validation`. */
  type: string;
  /** Short summary of the kind of problem; the same for every occurrence. */
  title: string;
  /** HTTP status code. */
  status: number;
  /** What went wrong this time, naming the cause. */
  detail: string;
  /** Every rule broken: where, which rule, why. */
  errors?: ValidationIssue[];
  /** Position of the first bad event in a batch. */
  index?: number;
  /** Further members (e.g. `limit` in bytes for a size problem). */
  [member: string]: unknown;
}

/** Builds a problem of one of Keel's types (`slug` is the last segment of its type URI). */
export function problem(
  slug: string,
  status: number,
  title: string,
  detail: string,
  extra: Omit<Partial<Problem>, 'type' | 'status' | 'title' | 'detail'> = {},
): Problem {
  return { type: `${PROBLEM_BASE}${slug}`, title, status, detail, ...extra };
}

/** Sends a problem as `application/problem+json` with its status. */
export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_MEDIA_TYPE).send(body);
}

/** What is known about the request that failed, to locate the bad event of a batch. */
export interface ProblemContext {
  /** The request was a batch (`application/cloudevents-batch+json`). */
  batch?: boolean;
  /** Types of the decoded events, in order, when decoding succeeded. */
  types?: readonly string[];
}

type CodedError = Error & { code?: unknown; statusCode?: unknown };

/**
 * Maps an error to the problem a client should see. Errors are recognised by their `code`, not by
 * class identity: the catalog module may be loaded from another copy of Keel than the server's.
 * Returns undefined for errors that are the server's fault (answered 500 by the caller).
 */
export function problemFromError(error: unknown, context: ProblemContext = {}): Problem | undefined {
  if (!(error instanceof Error)) return undefined;
  const coded = error as CodedError;
  const batch = context.batch ?? false;
  const locate = (index: number | undefined) => (batch && index !== undefined ? { index } : {});
  switch (coded.code) {
    case 'KEEL_VALIDATION': {
      const issues = [...((error as Error & { issues?: ValidationIssue[] }).issues ?? [])];
      const index =
        batchIndexOf(error) ?? indexFromPaths(issues) ?? (context.types?.length === 1 ? 0 : undefined);
      const errors = batch && index !== undefined ? issues.map((issue) => inBatch(issue, index)) : issues;
      if (issues.some((issue) => issue.rule === 'unsupported_format')) {
        return problem('unsupported-media-type', 415, 'Unsupported media type', error.message, { errors });
      }
      if (issues.some((issue) => issue.rule === 'malformed_json')) {
        return problem('malformed-json', 400, 'Malformed JSON', error.message, { errors });
      }
      return problem('validation', 400, 'Invalid event', error.message, { errors, ...locate(index) });
    }
    case 'KEEL_UNKNOWN_EVENT_TYPE': {
      const type = (error as Error & { eventType?: string }).eventType ?? '';
      const index = batchIndexOf(error) ?? context.types?.indexOf(type);
      const path = batch && index !== undefined && index >= 0 ? `[${index}].type` : 'type';
      return problem('unknown-event-type', 400, 'Unknown event type', error.message, {
        errors: [{ path, rule: 'unknown_type', message: `"${type}" is not in the catalog` }],
        ...locate(index !== undefined && index >= 0 ? index : undefined),
      });
    }
    case 'KEEL_EVENT_TOO_LARGE': {
      const { size, limit, eventType } = error as Error & {
        size?: number;
        limit?: number;
        eventType?: string;
      };
      const index = batchIndexOf(error) ?? (context.types?.length === 1 ? 0 : undefined);
      return problem('event-too-large', 413, 'Event too large', error.message, {
        errors: [
          {
            path: batch && index !== undefined ? `[${index}]` : '',
            rule: 'max_size',
            message: `a ${eventType ?? 'event'} of ${size} bytes is over the limit of ${limit} bytes`,
          },
        ],
        ...locate(index),
        size,
        limit,
      });
    }
    case 'KEEL_API_JSON_TOO_DEEP': {
      const { path, limit } = error as Error & { path?: string; limit?: number };
      return problem('json-too-deep', 400, 'JSON nested too deeply', error.message, {
        errors: [
          { path: path ?? '', rule: 'max_depth', message: `at most ${limit} levels of arrays and objects` },
        ],
        limit,
      });
    }
    case 'KEEL_UNAUTHENTICATED':
      return problem('unauthenticated', 401, 'Unauthenticated', error.message);
    case 'KEEL_FORBIDDEN':
      // The same words whatever was refused: a refusal never tells what exists.
      return problem('forbidden', 403, 'Forbidden', 'this identity is not allowed to do this');
    case 'KEEL_TRANSPORT_CLOSED':
      // Nothing was written: the client may retry, here once restarted or on another node.
      return problem(
        'unavailable',
        503,
        'Service unavailable',
        `${error.message}; nothing was written, retry later`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('payload-too-large', 413, 'Request body too large', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported-media-type', 415, 'Unsupported media type', error.message);
    default: {
      // Other client errors raised by fastify itself (bad content length, aborted upload...).
      const status = typeof coded.statusCode === 'number' ? coded.statusCode : 500;
      return status >= 400 && status < 500
        ? problem('bad-request', status, 'Bad request', error.message)
        : undefined;
    }
  }
}

/** Index of the batch event named by the first issue path (`[3].time` → 3). */
function indexFromPaths(issues: readonly ValidationIssue[]): number | undefined {
  const match = /^\[(\d+)\]/.exec(issues[0]?.path ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Prefixes an issue's path with the batch index when the validator did not (a batch of one). */
function inBatch(issue: ValidationIssue, index: number): ValidationIssue {
  if (issue.path.startsWith('[')) return issue;
  return { ...issue, path: `[${index}]${issue.path ? `.${issue.path}` : ''}` };
}
