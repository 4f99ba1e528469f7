import { z } from 'zod';
import { defineEvent } from '../events/define-event.ts';
import { defineTopic } from '../events/define-topic.ts';

/** A pattern rule matched: which rule, for which key, and the ids of the events that made the match. */
export const PatternMatched = defineEvent({
  type: 'keel.analytics.pattern.matched',
  version: 1,
  description: 'A pattern rule (sequence, absence, threshold or count) matched the events listed.',
  schema: z.object({
    rule: z.string(),
    kind: z.enum(['sequence', 'absence', 'threshold', 'count']),
    key: z.string(),
    /** Ids of the events that made the match, in event-time order. */
    eventIds: z.array(z.string()).min(1),
    /** Event time (RFC 3339) of the last event of the match, or the deadline for an absence. */
    at: z.string(),
  }),
  partitionKey: (data) => `${data.rule}/${data.key}`,
});

/** A window closed: the aggregates of one group over one span of event time. */
export const WindowClosed = defineEvent({
  type: 'keel.analytics.window.closed',
  version: 1,
  description: 'Count, rate and value aggregates of one group over one tumbling or sliding window.',
  schema: z.object({
    window: z.string(),
    key: z.string(),
    /** Window start and end (exclusive), RFC 3339 event time. */
    start: z.string(),
    end: z.string(),
    count: z.number().int(),
    /** Events per second over the window. */
    rate: z.number(),
    sum: z.number().optional(),
    mean: z.number().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  partitionKey: (data) => `${data.window}/${data.key}`,
});

/** A window's rate or mean fell outside the band its recent history predicts. */
export const AnomalyDetected = defineEvent({
  type: 'keel.analytics.anomaly.detected',
  version: 1,
  description: "A window's rate or mean value fell outside the expected band (robust z-score).",
  schema: z.object({
    window: z.string(),
    key: z.string(),
    /** Which figure of the window: `rate` or `mean`. */
    measure: z.enum(['rate', 'mean']),
    value: z.number(),
    score: z.number(),
    expected: z.object({ low: z.number(), high: z.number() }),
    /** Window start and end (exclusive), RFC 3339 event time. */
    start: z.string(),
    end: z.string(),
  }),
  partitionKey: (data) => `${data.window}/${data.key}`,
});

/** Where analytics results are published. */
export const AnalyticsTopic = defineTopic({
  name: 'keel.analytics',
  partitions: 3,
  events: [PatternMatched, WindowClosed, AnomalyDetected],
  description: 'Results of the analytics part: pattern matches and closed windows.',
});
