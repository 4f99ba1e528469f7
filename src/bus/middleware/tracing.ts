import { context as otelContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFromTraceparent, tracer } from '../../observability/tracing.ts';
import type { Middleware } from './middleware.ts';

/** Tracing options. */
export interface TracingOptions {
  /** `messaging.system` attribute: `kafka` on the Kafka transport, `keel` on the embedded one. */
  system: string;
}

/**
 * Runs each handler in a CONSUMER span named `process <topic>`, child of the span in the event's
 * `traceparent`, with OpenTelemetry's messaging attributes; the span is active while the handler runs,
 * so events it publishes carry a `traceparent` naming it.
 */
export function tracing(options: TracingOptions): Middleware {
  return (next) => (event, context) => {
    const parent = contextFromTraceparent(event.traceparent);
    const span = tracer.startSpan(`process ${context.topic}`, { kind: SpanKind.CONSUMER }, parent);
    // Attributes cost more than the rest of a span; skip them when no SDK records it.
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.system': options.system,
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': context.topic,
        'messaging.destination.partition.id': String(context.partition),
        'messaging.consumer.group.name': context.group,
        'messaging.message.id': event.id,
        'messaging.kafka.offset': Number(context.offset),
        'cloudevents.event_id': event.id,
        'cloudevents.event_type': event.type,
        'cloudevents.event_source': event.source,
        'keel.handler': context.handler,
        'keel.attempt': context.attempt,
        ...(event.partitionkey === undefined ? {} : { 'messaging.kafka.message.key': event.partitionkey }),
      });
    }
    return otelContext.with(trace.setSpan(parent, span), async () => {
      try {
        await next(event, context);
        span.setStatus({ code: SpanStatusCode.OK });
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        span.setAttribute('error.type', (error as Error).name ?? 'Error');
        throw error;
      } finally {
        span.end();
      }
    });
  };
}
