import type { CloudEvent } from '../../events/cloud-event.ts';
import type { Placement } from '../../transport/append-events.ts';
import type { OutgoingRecord } from '../../transport/transport.ts';

/** An event ready to append: encoded, with its topic and partition chosen. */
export interface PlacedEvent extends Placement {
  event: CloudEvent;
  /** Encoded size in bytes (value, key and headers). */
  size: number;
}

/** Bytes a record takes on the wire: payload, key and headers. */
export function encodedSize(record: OutgoingRecord): number {
  let size = (record.value?.byteLength ?? 0) + Buffer.byteLength(record.key ?? '');
  for (const [name, value] of Object.entries(record.headers)) size += name.length + Buffer.byteLength(value);
  return size;
}
