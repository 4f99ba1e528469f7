import { z } from 'zod';
import { defineEvent } from '../events/define-event.ts';
import { defineTopic } from '../events/define-topic.ts';

/** A circuit breaker changed state. */
export const CircuitBreakerStateChanged = defineEvent({
  type: 'keel.circuit-breaker.state-changed',
  version: 1,
  description: 'A circuit breaker opened, half-opened or closed.',
  schema: z.object({ name: z.string(), state: z.enum(['closed', 'open', 'half-open']) }),
  partitionKey: (data) => data.name,
});

/** A dead-letter entry was sent back to its source topic. */
export const DeadLetterRetried = defineEvent({
  type: 'keel.dlq.entry.retried',
  version: 1,
  description: 'A dead-letter entry was republished to its source topic.',
  schema: z.object({
    group: z.string(),
    entryId: z.string(),
    eventId: z.string(),
    sourceTopic: z.string(),
    by: z.string().optional(),
  }),
  partitionKey: (data) => data.entryId,
});

/** A dead-letter entry was discarded. */
export const DeadLetterDiscarded = defineEvent({
  type: 'keel.dlq.entry.discarded',
  version: 1,
  description: 'A dead-letter entry was discarded, with a reason.',
  schema: z.object({
    group: z.string(),
    entryId: z.string(),
    eventId: z.string(),
    reason: z.string().min(1),
    by: z.string().optional(),
  }),
  partitionKey: (data) => data.entryId,
});

/** Keel's own events about itself (breaker changes); dead-letter actions go to each group's DLQ topic. */
export const SystemTopic = defineTopic({
  name: 'keel.system',
  partitions: 1,
  events: [CircuitBreakerStateChanged],
  description: "Keel's own operational events.",
});
