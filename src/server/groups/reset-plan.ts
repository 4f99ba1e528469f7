import type { GroupResetTarget } from '../../transport/group-admin.ts';
import type { OffsetCommit, PartitionOffsets, Transport } from '../../transport/transport.ts';
import { RequestInvalidError } from '../api/errors.ts';

/** What a reset would do to one partition. */
export interface PartitionReset {
  partition: number;
  /** Committed offset now (null when the group never committed here). */
  from: bigint | null;
  to: bigint;
  lagBefore: bigint;
  lagAfter: bigint;
}

/**
 * Works out the offsets a reset moves a group to, per partition, without changing anything: an end of the
 * log, an offset (clamped into the log), or the first record at or after a time (records' append times
 * are taken as ascending within a partition, so it is a binary search; after the last record, the end).
 */
export async function planReset(
  transport: Transport,
  group: string,
  topic: string,
  target: GroupResetTarget,
  only: readonly number[] | undefined,
): Promise<PartitionReset[]> {
  const all = await transport.offsets(topic);
  const bad = (only ?? []).filter((p) => !all.some((o) => o.partition === p));
  if (bad.length > 0) {
    throw new RequestInvalidError(
      [{ path: 'body.partitions', rule: 'exists', message: `${topic} has no partition ${bad.join(', ')}` }],
      422,
    );
  }
  const chosen = only === undefined ? all : all.filter((o) => only.includes(o.partition));
  const lag = new Map((await transport.groupLag(group, [topic])).map((l) => [l.partition, l]));
  const plan: PartitionReset[] = [];
  for (const bounds of chosen) {
    const to = await targetOffset(transport, topic, bounds, target);
    const now = lag.get(bounds.partition);
    plan.push({
      partition: bounds.partition,
      from: now?.committed ?? null,
      to,
      lagBefore: now?.lag ?? bounds.latest - bounds.earliest,
      lagAfter: bounds.latest - to,
    });
  }
  return plan;
}

/** The plan as the commits to make. */
export function commitsOf(topic: string, plan: readonly PartitionReset[]): OffsetCommit[] {
  return plan.map((p) => ({ topic, partition: p.partition, offset: p.to }));
}

async function targetOffset(
  transport: Transport,
  topic: string,
  bounds: PartitionOffsets,
  target: GroupResetTarget,
): Promise<bigint> {
  if (target === 'earliest') return bounds.earliest;
  if (target === 'latest') return bounds.latest;
  if ('offset' in target) {
    return target.offset < bounds.earliest
      ? bounds.earliest
      : target.offset > bounds.latest
        ? bounds.latest
        : target.offset;
  }
  // Smallest offset whose record is at or after the time.
  let low = bounds.earliest;
  let high = bounds.latest;
  while (low < high) {
    const middle = low + (high - low) / 2n;
    const [record] = await transport.read(topic, bounds.partition, middle, 1);
    if (record === undefined) {
      high = middle;
    } else if (record.timestamp >= target.timestamp) {
      high = middle;
    } else {
      low = record.offset + 1n;
    }
  }
  return low;
}
