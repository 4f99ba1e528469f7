import type { CloudEvent } from '../../events/cloud-event.ts';
import { versionOf } from '../../events/data-schema.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import { upcastData } from '../../events/upcast.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { Escalation } from '../dead-letter/escalate.ts';
import { failureOf } from '../dead-letter/failure-headers.ts';
import type { RecordHandler } from './key-ordered-dispatch.ts';
import type { Route } from './route.ts';

/** What the way in needs: the routes by event type and where failures go. */
export interface InboundOptions {
  group: string;
  routes: ReadonlyMap<string, Route>;
  escalation: Escalation;
  /** Whether a topic is one of the group's delayed-retry topics (its records carry failure headers). */
  isRetryTopic: (topic: string) => boolean;
  metrics?: KeelMetrics;
}

/**
 * The way in, the one place a record becomes the event its route handles: decoded (an undecodable
 * record is dead-lettered), routed by type (a type without a handler is skipped), and upcast from the
 * version it was written at to the route's (a failed upcast is dead-lettered).
 */
export function createInbound(options: InboundOptions): RecordHandler {
  const { group, routes, escalation, metrics } = options;
  const undecodable = `${group}:undecodable`;
  return (record, progress) => {
    // Records of retry topics, and records released from the DLQ to their source topic, carry their failures.
    const released = record.headers.keel_released !== undefined;
    const previous = options.isRetryTopic(record.topic) || released ? failureOf(record) : undefined;
    let event: CloudEvent;
    try {
      event = fromRecord(record);
    } catch (error) {
      metrics?.eventConsumed.inc({ group, type: 'undecodable', outcome: 'undecodable' });
      return escalation.escalate({
        record,
        event: undefined,
        error,
        handler: undecodable,
        previous,
        attempts: 0,
        progress,
      });
    }
    const route = routes.get(event.type);
    if (!route) return Promise.resolve(true);
    const version = versionOf(event);
    if (version !== undefined && version < route.definition.version) {
      try {
        event = { ...event, data: upcastData(route.definition, version, event.data) };
      } catch (error) {
        const failure = { record, event, error, handler: route.name, previous, attempts: 0, progress };
        return escalation.escalate(failure);
      }
    }
    return route.accept(event, record, previous, progress);
  };
}
