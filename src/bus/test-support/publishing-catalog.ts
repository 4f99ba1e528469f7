import { z } from 'zod';
import { createCatalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import type { Transport } from '../../transport/transport.ts';

/** A test event: step `seq` of sequence `key` (order checks compare seq per key). */
export const StepRecorded = defineEvent({
  type: 'test.step.recorded',
  version: 1,
  schema: z.object({ key: z.string().min(1), seq: z.number().int().min(0) }),
  partitionKey: (data) => data.key,
});

/** A second test event on another topic, for transactions across topics. */
export const AuditRecorded = defineEvent({
  type: 'test.audit.recorded',
  version: 1,
  schema: z.object({ key: z.string().min(1), note: z.string() }),
  partitionKey: (data) => data.key,
});

/** A request for a price. */
export const QuoteRequested = defineEvent({
  type: 'test.quote.requested',
  version: 1,
  schema: z.object({ item: z.string().min(1), quantity: z.number().int().min(1) }),
  partitionKey: (data) => data.item,
});

/** The reply to a QuoteRequested. */
export const QuoteGiven = defineEvent({
  type: 'test.quote.given',
  version: 1,
  schema: z.object({ item: z.string(), total: z.number() }),
});

/** The publisher tests' catalog, with topic names starting with `prefix` (tests on one broker never meet). */
export function publishingCatalog(prefix: string) {
  const steps = defineTopic({ name: `${prefix}.steps`, partitions: 3, events: [StepRecorded] });
  const audits = defineTopic({ name: `${prefix}.audits`, partitions: 2, events: [AuditRecorded] });
  const quotes = defineTopic({ name: `${prefix}.quotes`, partitions: 3, events: [QuoteRequested] });
  return {
    steps,
    audits,
    quotes,
    /** Topic the tests' replies go to. */
    replyTopic: `${prefix}.replies`,
    catalog: createCatalog({ topics: [steps, audits, quotes], events: [QuoteGiven] }),
  };
}

/** Every event stored on a topic, per partition in offset order, decoded. */
export async function readTopic(
  transport: Transport,
  topic: string,
): Promise<Array<{ partition: number; offset: bigint; event: CloudEvent }>> {
  const out: Array<{ partition: number; offset: bigint; event: CloudEvent }> = [];
  for (const bounds of await transport.offsets(topic)) {
    let from = bounds.earliest;
    while (from < bounds.latest) {
      const records = await transport.read(topic, bounds.partition, from, 1000);
      if (records.length === 0) break;
      for (const record of records)
        out.push({ partition: record.partition, offset: record.offset, event: fromRecord(record) });
      from = records[records.length - 1]!.offset + 1n;
    }
  }
  return out;
}

/** Waits until `condition` holds, checking every 20 ms; fails after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Milliseconds to sleep. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
