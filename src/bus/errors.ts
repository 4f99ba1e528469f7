import { KeelError } from '../errors/keel-error.ts';

/** An encoded event larger than the configured limit. */
export class EventTooLargeError extends KeelError {
  readonly code = 'KEEL_EVENT_TOO_LARGE';
  readonly eventId: string;
  readonly eventType: string;
  /** Encoded size in bytes. */
  readonly size: number;
  /** Largest size accepted, in bytes. */
  readonly limit: number;

  constructor(eventId: string, eventType: string, size: number, limit: number) {
    super(`event ${eventId} (${eventType}) is ${size} bytes encoded, over the limit of ${limit} bytes`);
    this.eventId = eventId;
    this.eventType = eventType;
    this.size = size;
    this.limit = limit;
  }
}

const indexKey = Symbol('keel.batchIndex');

/** Marks an error as caused by the event at `index` of a batch, and returns it. */
export function atBatchIndex<E extends Error>(error: E, index: number): E {
  Object.defineProperty(error, indexKey, { value: index, enumerable: false });
  return error;
}

/** Index of the batch event that caused an error, when it was caused by one. */
export function batchIndexOf(error: unknown): number | undefined {
  return error instanceof Error ? (error as Error & { [indexKey]?: number })[indexKey] : undefined;
}
