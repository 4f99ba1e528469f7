import { z } from 'zod';
import type { PullGroups } from '../../delivery/pull/pull-groups.ts';
import { toStructuredObject } from '../../events/json-format.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import type { StoredRecord } from '../../transport/transport.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';

const groupParam = z.strictObject({ group: z.string().min(1).max(200).describe('Consumer group id.') });
const TAG = 'consumers';

const leasedSchema = z.object({
  lease: z.string().describe('Acknowledge with this before `expiresAt`.'),
  expiresAt: z.iso.datetime(),
  topic: z.string(),
  partition: z.int(),
  offset: z.string().describe('Offset in the partition, as digits.'),
  key: z.string().nullable(),
  event: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('The CloudEvent in the JSON format; null when the record is not a CloudEvent Keel can read.'),
});

function eventOf(record: StoredRecord): Record<string, unknown> | null {
  try {
    return toStructuredObject(fromRecord(record));
  } catch {
    return null;
  }
}

/** Registers the HTTP consumer API: fetch a group's events under leases (long poll), acknowledge them. */
export function registerConsumerRoutes(api: ApiRegistry, pull: PullGroups): void {
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/consumers/:group/fetch',
      operationId: 'fetchGroupEvents',
      summary: "Lease a consumer group's next events (long poll), in order per partition key",
      description:
        'The node is the group member and hands events to HTTP clients under leases: while a lease holds an ' +
        'event, later events of its partition key go to no one else, so each key is processed in order. An ' +
        'event not acknowledged before its lease expires goes to the next fetch (a crashed client’s events go ' +
        'to another). The group’s offsets are committed up to the first event not yet acknowledged: at least ' +
        'once. Every fetch of a group names the same topics.',
      tag: TAG,
      params: groupParam,
      body: z.strictObject({
        topics: z.array(z.string().min(1)).min(1).max(50).describe('Topics the group consumes.'),
        maxEvents: z.int().min(1).max(500).default(100).describe('Most events in the answer.'),
        waitMs: z
          .int()
          .min(0)
          .max(30_000)
          .default(10_000)
          .describe('Milliseconds to wait when none are ready.'),
        leaseMs: z.int().min(1_000).max(600_000).default(30_000).describe('Milliseconds a lease lasts.'),
      }),
      answer: z.object({ events: z.array(leasedSchema) }),
      problems: [404, 409],
      handler: async ({ params, body, reply }) => {
        // A client that goes away stops the long poll (nothing is leased to it after).
        const aborted = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) aborted.abort();
        });
        const leased = await pull.fetch(params.group, body.topics, {
          maxRecords: body.maxEvents,
          waitMs: body.waitMs,
          leaseMs: body.leaseMs,
          signal: aborted.signal,
        });
        // The node is closing: this connection must not stay open for another request, or the close waits for it.
        if (pull.interrupted()) reply.header('connection', 'close');
        return {
          events: leased.map(({ lease, record, expiresAt }) => ({
            lease,
            expiresAt: new Date(expiresAt).toISOString(),
            topic: record.topic,
            partition: record.partition,
            offset: record.offset.toString(),
            key: record.key,
            event: eventOf(record),
          })),
        };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/consumers/:group/ack',
      operationId: 'ackGroupEvents',
      summary: 'Acknowledge leased events: they count as handled and the group’s offsets move on',
      tag: TAG,
      params: groupParam,
      body: z.strictObject({ leases: z.array(z.string().min(1)).min(1).max(500) }),
      answer: z.object({
        acknowledged: z.int(),
        expired: z
          .array(z.string())
          .describe('Leases not held any more (expired and handed on): redelivered.'),
      }),
      handler: async ({ params, body }) => {
        const expired = await pull.ack(params.group, body.leases);
        return { acknowledged: body.leases.length - expired.length, expired };
      },
    }),
  );
}
