import { parse } from '@marcbachmann/cel-js';
import type { StoredRecord } from '../../transport/transport.ts';
import { RequestInvalidError } from '../api/errors.ts';

/** Longest CEL expression a filter takes, in characters. */
export const MAX_CEL_LENGTH = 2_000;

/** What a CEL filter sees of one record (the variables its expression may name). */
export interface CelRecordView {
  /** The event: its attributes (`event.type`, `event.subject`, ...) and `event.data`. */
  event: Record<string, unknown> | undefined;
  /** Shorthand for `event.data`. */
  data: unknown;
  /** The record's key, or null. */
  key: string | null;
  partition: bigint;
  offset: bigint;
  /** Append time, milliseconds since the epoch. */
  timestamp: bigint;
}

/**
 * Compiles a CEL expression (the Common Expression Language: no loops, no side effects, no access to
 * anything but the variables given) into a predicate over records. The expression is parsed once, here; one
 * that does not parse is refused (400) naming `field` and saying where. A record on which the expression
 * does not evaluate to `true` — false, another type, or an error such as a missing key — does not match,
 * as CEL's own filters treat errors.
 */
export function compileCelFilter(
  text: string,
  field: string,
): (record: StoredRecord, view: () => Record<string, unknown> | undefined) => boolean {
  let evaluate: ReturnType<typeof parse>;
  try {
    evaluate = parse(text);
  } catch (error) {
    throw new RequestInvalidError([
      {
        path: field,
        rule: 'cel',
        message: `not a CEL expression: ${(error as Error).message.split('\n')[0]}`,
      },
    ]);
  }
  return (record, view) => {
    const event = view();
    const variables: CelRecordView = {
      event,
      data: event?.data ?? null,
      key: record.key,
      partition: BigInt(record.partition),
      offset: record.offset,
      timestamp: BigInt(record.timestamp),
    };
    try {
      return evaluate(variables as unknown as Record<string, unknown>) === true;
    } catch {
      // An expression that cannot be evaluated on this record (a missing field, another type) does not match it.
      return false;
    }
  };
}
