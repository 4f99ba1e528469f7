import { z } from 'zod';
import type { DeadLetterEntry } from '../../bus/dead-letter/dead-letter-queue.ts';
import { messageSchema, messageView } from '../topics/message-view.ts';

/** JSON shape of why an entry failed. */
export const failureSchema = z.object({
  errorType: z.string().describe('Error class name, e.g. `ValidationError`.'),
  errorMessage: z.string(),
  errorCode: z.string().nullable(),
  attempts: z.int().describe('Handler attempts over every delivery.'),
  handler: z.string(),
  firstFailureAt: z.iso.datetime().nullable(),
  lastFailureAt: z.iso.datetime().nullable(),
  sourceTopic: z.string(),
  sourcePartition: z.int(),
  sourceOffset: z.string(),
});

/** JSON shape of a dead-letter entry in a list. */
export const deadLetterSchema = z.object({
  id: z.string().describe('`<partition>:<offset>` in the group’s DLQ topic.'),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  status: z.enum(['pending', 'retried', 'discarded']),
  reason: z.string().nullable().describe('Why it was discarded.'),
  failure: failureSchema,
  parkedBehind: z
    .int()
    .describe(
      'Pending entries of the same key parked behind this one (ordered retries): retrying or discarding it releases them, in order.',
    ),
  parkedBehindEntry: z
    .string()
    .nullable()
    .describe('Id of the entry this one is parked behind (the head of its key’s chain); act on that one.'),
});

/** JSON shape of one action taken on an entry. */
export const deadLetterActionSchema = z.object({
  action: z.enum(['retried', 'discarded']),
  at: z.iso.datetime().describe('When it was taken.'),
  by: z.string().nullable().describe('Who took it (the `keel-actor` header).'),
  reason: z.string().nullable(),
});

/** JSON shape of one entry, inspected: the failure with its stack, the message, and what was done to it. */
export const deadLetterDetailSchema = deadLetterSchema.extend({
  errorStack: z.string(),
  message: messageSchema.describe('The DLQ record (original headers plus `keel_*` failure headers).'),
  actions: z.array(deadLetterActionSchema),
});

/** JSON shape of a group of failures sharing an error type and a handler. */
export const failureGroupSchema = z.object({
  errorType: z.string(),
  handler: z.string(),
  count: z.int(),
  firstSeen: z.iso.datetime().nullable(),
  lastSeen: z.iso.datetime().nullable(),
  sampleId: z.string().describe('One entry of the group, to inspect.'),
  sampleMessage: z.string().describe('Its error message.'),
});

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** JSON view of an entry in a list. */
export function deadLetterView(entry: DeadLetterEntry): z.input<typeof deadLetterSchema> {
  const f = entry.failure;
  return {
    id: entry.id,
    eventId: entry.eventId ?? null,
    eventType: entry.eventType ?? null,
    status: entry.status,
    reason: entry.reason ?? null,
    parkedBehind: entry.parkedBehind,
    parkedBehindEntry: entry.parkedBehindEntry ?? null,
    failure: {
      errorType: f.errorType,
      errorMessage: f.errorMessage,
      errorCode: f.errorCode ?? null,
      attempts: f.attempts,
      handler: f.handler,
      firstFailureAt: iso(f.firstFailureAt),
      lastFailureAt: iso(f.lastFailureAt),
      sourceTopic: f.sourceTopic,
      sourcePartition: f.sourcePartition,
      sourceOffset: f.sourceOffset.toString(),
    },
  };
}

/** JSON view of one entry with its record and actions. */
export function deadLetterDetailView(
  entry: DeadLetterEntry,
  actions: z.input<typeof deadLetterActionSchema>[],
): z.input<typeof deadLetterDetailSchema> {
  return {
    ...deadLetterView(entry),
    errorStack: entry.failure.errorStack,
    message: messageView(entry.record),
    actions,
  };
}

/** Entries grouped by error type and handler, largest group first. */
export function summarize(entries: readonly DeadLetterEntry[]): z.input<typeof failureGroupSchema>[] {
  const groups = new Map<string, { entries: DeadLetterEntry[] }>();
  for (const entry of entries) {
    const key = JSON.stringify([entry.failure.errorType, entry.failure.handler]);
    const group = groups.get(key) ?? { entries: [] };
    group.entries.push(entry);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map(({ entries: members }) => {
      const first = Math.min(...members.map((e) => e.failure.firstFailureAt));
      const last = Math.max(...members.map((e) => e.failure.lastFailureAt));
      const sample = members[members.length - 1] as DeadLetterEntry;
      return {
        errorType: sample.failure.errorType,
        handler: sample.failure.handler,
        count: members.length,
        firstSeen: iso(first),
        lastSeen: iso(last),
        sampleId: sample.id,
        sampleMessage: sample.failure.errorMessage,
      };
    })
    .sort((a, b) => b.count - a.count || a.errorType.localeCompare(b.errorType));
}
