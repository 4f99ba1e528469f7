import type { ValidationIssue } from '../../events/errors.ts';
import { type Problem, problem } from '../problem.ts';

type Coded = Error & { code?: unknown } & Record<string, unknown>;

/**
 * Problems for the errors of the API's resources (request validation, unknown resources, conflicts), and
 * the errors of the ports they call. Recognised by `code`, like problemFromError; undefined for others.
 */
export function apiProblemOf(error: Coded): Problem | undefined {
  switch (error.code) {
    case 'KEEL_API_REQUEST_INVALID': {
      const status = error.status === 422 ? 422 : 400;
      const errors = (error.issues ?? []) as ValidationIssue[];
      return status === 422
        ? problem('unprocessable', 422, 'Request cannot be acted on', error.message, { errors })
        : problem('invalid-request', 400, 'Invalid request', error.message, { errors });
    }
    case 'KEEL_API_NOT_FOUND':
      return problem('not-found', 404, 'Not found', error.message, {
        errors: [{ path: String(error.field), rule: 'exists', message: error.message }],
      });
    case 'KEEL_API_UNSUPPORTED_MEDIA_TYPE':
      return problem('unsupported-media-type', 415, 'Unsupported media type', error.message, {
        accepted: error.accepted,
      });
    case 'KEEL_API_FORBIDDEN':
      return problem('forbidden', 403, 'Forbidden', error.message, { setting: error.setting });
    case 'KEEL_API_CONFLICT':
      return problem('conflict', 409, 'Conflict', error.message, fieldErrors(error, 'state'));
    case 'KEEL_TRANSPORT_UNKNOWN_TOPIC':
      return problem('not-found', 404, 'Not found', error.message, {
        errors: [{ path: 'params.topic', rule: 'exists', message: error.message }],
      });
    case 'KEEL_DLQ_ENTRY_NOT_FOUND':
      return problem('not-found', 404, 'Not found', error.message, {
        errors: [{ path: 'params.id', rule: 'exists', message: error.message }],
      });
    case 'KEEL_DLQ_ENTRY_CLOSED':
      return problem('conflict', 409, 'Conflict', error.message, {
        errors: [{ path: 'params.id', rule: 'pending', message: error.message }],
      });
    case 'KEEL_DLQ_ENTRY_PARKED':
      return problem('conflict', 409, 'Conflict', error.message, {
        errors: [{ path: 'params.id', rule: 'not_parked', message: error.message }],
      });
    case 'KEEL_KAFKA_GROUP_NOT_EMPTY':
    case 'KEEL_GROUP_LIVE':
      return problem('group-live', 409, 'Consumer group is live', error.message, {
        errors: [{ path: 'params.group', rule: 'no_live_members', message: error.message }],
      });
    case 'KEEL_STORE_INVALID_CHECKPOINT':
      return problem('invalid-request', 400, 'Invalid request', error.message, {
        errors: [
          {
            path: 'query.cursor',
            rule: 'invalid_cursor',
            message: 'not a cursor of this list: pass `next` as given',
          },
        ],
      });
    case 'KEEL_WORKFLOW_INSTANCE_NOT_FOUND':
      return problem('not-found', 404, 'Not found', error.message, {
        errors: [{ path: 'params.instanceId', rule: 'exists', message: error.message }],
      });
    case 'KEEL_WORKFLOW_INSTANCE_ENDED':
      return problem('conflict', 409, 'Conflict', error.message, {
        errors: [{ path: 'params.instanceId', rule: 'running', message: error.message }],
      });
    case 'KEEL_SUBSCRIPTION_INVALID':
      return problem('invalid-request', 400, 'Invalid request', error.message, {
        errors: ((error.issues ?? []) as { path: string; message: string }[]).map((issue) => ({
          path: `body.${issue.path}`,
          rule: 'valid',
          message: issue.message,
        })),
      });
    case 'KEEL_SUBSCRIPTION_NOT_FOUND':
      return problem('not-found', 404, 'Not found', error.message, {
        errors: [{ path: 'params.name', rule: 'exists', message: error.message }],
      });
    case 'KEEL_SUBSCRIPTION_EXISTS':
      return problem('conflict', 409, 'Conflict', error.message, {
        errors: [{ path: 'body.name', rule: 'unique', message: error.message }],
      });
    case 'KEEL_PULL_GROUP_TOPICS':
      return problem('conflict', 409, 'Conflict', error.message, {
        errors: [{ path: 'body.topics', rule: 'same_topics', message: error.message }],
      });
    case 'KEEL_PULL_TOPIC_NOT_FOUND':
      return problem('not-found', 404, 'Not found', error.message, {
        errors: [{ path: 'body.topics', rule: 'exists', message: error.message }],
      });
    case 'KEEL_DELIVERY_ENDPOINT_GONE':
      return problem('conflict', 409, 'Conflict', error.message, {
        errors: [{ path: 'params.name', rule: 'endpoint_available', message: error.message }],
      });
    case 'KEEL_ANALYTICS_QUERY_INVALID':
      return problem('query-invalid', 422, 'Query refused', error.message, {
        errors: [
          { path: 'body.sql', rule: String(error.rule), message: error.message, ...(error.position ?? {}) },
        ],
      });
    case 'KEEL_ANALYTICS_QUERY_TIMEOUT':
      return problem('query-timeout', 422, 'Query took too long', error.message, {
        errors: [{ path: 'body.timeoutMs', rule: 'timeout', message: error.message }],
      });
    default:
      return undefined;
  }
}

function fieldErrors(error: Coded, rule: string): Partial<Problem> {
  const field = error.field;
  return typeof field === 'string' ? { errors: [{ path: field, rule, message: error.message }] } : {};
}
