import { findErrorBy, GenericError } from '@platformatic/kafka';
import { KafkaOperationError } from './errors.ts';

interface ClientError {
  apiId?: unknown;
  errors?: unknown;
  cause?: unknown;
  code?: unknown;
  message?: unknown;
}

/** Kafka protocol error names (`apiId`, e.g. `OFFSET_OUT_OF_RANGE`) anywhere in a client error and its nested errors. */
export function kafkaErrorNames(error: unknown): string[] {
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 8) return;
    seen.add(value);
    const e = value as ClientError;
    if (typeof e.apiId === 'string') names.add(e.apiId);
    if (Array.isArray(e.errors)) for (const inner of e.errors) visit(inner, depth + 1);
    visit(e.cause, depth + 1);
  };
  visit(error, 0);
  return [...names];
}

/** True when the client error carries the Kafka protocol error `name`. */
export function hasKafkaError(error: unknown, name: string): boolean {
  return kafkaErrorNames(error).includes(name);
}

/** True when the client says a topic does not exist (metadata lookups fail with a plain "Unknown topic" error). */
export function isUnknownTopic(error: unknown): boolean {
  if (hasKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION') || hasKafkaError(error, 'UNKNOWN_TOPIC_ID'))
    return true;
  const seen = new Set<unknown>();
  const visit = (value: unknown): boolean => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return false;
    seen.add(value);
    const e = value as ClientError;
    if (typeof e.message === 'string' && e.message.startsWith('Unknown topic ')) return true;
    return (Array.isArray(e.errors) && e.errors.some(visit)) || visit(e.cause);
  };
  return visit(error);
}

/** The error as a KafkaOperationError naming the operation, unless it is already one of Keel's own errors. */
export function operationError(operation: string, error: unknown): Error {
  const code = (error as ClientError | null)?.code;
  if (typeof code === 'string' && code.startsWith('KEEL_')) return error as Error;
  return new KafkaOperationError(operation, error, kafkaErrorNames(error));
}

/**
 * True when the client says a failed request may succeed if made again (a leader moved, a broker was
 * unreachable): its own rule, that no error in the chain is marked `canRetry: false`.
 */
export function isRetryableClientError(error: unknown): boolean {
  return (
    error instanceof Error && GenericError.isGenericError(error) && !findErrorBy(error, 'canRetry', false)
  );
}
