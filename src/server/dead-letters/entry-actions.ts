import { DeadLetterDiscarded, DeadLetterRetried } from '../../bus/system-events.ts';
import type { Transport } from '../../transport/transport.ts';
import { decodeRecord } from '../topics/message-filter.ts';

/** An action on a dead-letter entry, as recorded in the DLQ topic. */
export interface EntryAction {
  action: 'retried' | 'discarded';
  at: string;
  by: string | null;
  reason: string | null;
}

const PAGE = 1000;

/**
 * The actions recorded on one entry (retry and discard events the DLQ appends to its own topic), oldest
 * first. Reads every partition of the DLQ topic: actions are few beside the entries.
 */
export async function entryActions(
  transport: Transport,
  topic: string,
  entryId: string,
): Promise<EntryAction[]> {
  const actions: EntryAction[] = [];
  for (const { partition, earliest, latest } of await transport.offsets(topic)) {
    for (let from = earliest; from < latest; ) {
      const records = await transport.read(topic, partition, from, PAGE);
      if (records.length === 0) break;
      for (const record of records) {
        const type = record.headers.ce_type;
        if (type !== DeadLetterRetried.type && type !== DeadLetterDiscarded.type) continue;
        const event = decodeRecord(record);
        const data = event?.data as { entryId?: string; by?: string; reason?: string } | undefined;
        if (data?.entryId !== entryId) continue;
        actions.push({
          action: type === DeadLetterRetried.type ? 'retried' : 'discarded',
          at: String(event?.time ?? new Date(record.timestamp).toISOString()),
          by: data.by ?? null,
          reason: data.reason ?? null,
        });
      }
      from = (records.at(-1)?.offset ?? latest) + 1n;
    }
  }
  return actions;
}
