import type { CloudEvent } from '../../events/cloud-event.ts';
import type { OutgoingRecord, PartitionWrite, Transport } from '../../transport/transport.ts';

/** An event ready to append: encoded, with its topic and partition chosen. */
export interface PlacedEvent {
  event: CloudEvent;
  topic: string;
  partition: number;
  record: OutgoingRecord;
  /** Encoded size in bytes (value, key and headers). */
  size: number;
}

/** Bytes a record takes on the wire: payload, key and headers. */
export function encodedSize(record: OutgoingRecord): number {
  let size = (record.value?.byteLength ?? 0) + Buffer.byteLength(record.key ?? '');
  for (const [name, value] of Object.entries(record.headers)) size += name.length + Buffer.byteLength(value);
  return size;
}

/** Where one record goes: what `appendPlaced` needs of a placed (or buffered) event. */
export type Placement = Pick<PlacedEvent, 'topic' | 'partition' | 'record'>;

/**
 * Appends records in one `transport.append` (one write per partition, records in their given order within
 * it), or in one `transport.appendAtomically` when `atomic`, and resolves with each record's offset, in the
 * order given.
 */
export async function appendPlaced(
  transport: Transport,
  placed: readonly Placement[],
  atomic = false,
): Promise<bigint[]> {
  const writes = new Map<string, PartitionWrite & { records: OutgoingRecord[]; members: number[] }>();
  placed.forEach((item, index) => {
    const id = `${item.topic}\u0000${item.partition}`;
    let write = writes.get(id);
    if (!write) {
      write = { topic: item.topic, partition: item.partition, records: [], members: [] };
      writes.set(id, write);
    }
    write.records.push(item.record);
    write.members.push(index);
  });
  const ordered = [...writes.values()];
  const offsets = atomic ? await transport.appendAtomically(ordered) : await transport.append(ordered);
  const result = new Array<bigint>(placed.length);
  ordered.forEach((write, w) => {
    write.members.forEach((index, r) => {
      result[index] = offsets[w]![r]!;
    });
  });
  return result;
}
